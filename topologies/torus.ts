/**
 * 2-D torus topology: ranks on a `rows × cols` grid with wrap-around, each averaging with its
 * four grid neighbours.
 *
 * Four messages per step buy a spectral gap that shrinks like `1/n` instead of the ring's `1/n²`.
 * Rank `r·cols + c` sits at row `r`, column `c`.
 *
 * @module
 */

import type { TorusTopology } from "./types.ts";
import { checkWorkers, isIntegerAtLeast, mod, zeros } from "./_args.ts";

/** Options of {@linkcode torus}. */
export interface TorusOptions {
  /** Grid rows; omitted means "derive from the number of workers". */
  readonly rows?: number;
  /** Grid columns; omitted means "derive from the number of workers". */
  readonly cols?: number;
}

/**
 * Creates a torus topology node. Omitted `rows`/`cols` are stored as `null` and resolved against
 * the number of workers later: both omitted means the most square grid ({@linkcode torusShape}),
 * one omitted means `n` divided by the other.
 *
 * @param options Grid shape, both optional.
 * @returns A frozen `{ kind: "torus", rows, cols }` node.
 * @throws {RangeError} When `rows` or `cols` is given and is not a positive integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topologyGap, torus } from "./mod.ts";
 *
 * assert.deepEqual(torus(), { kind: "torus", rows: null, cols: null });
 * assert.ok(Math.abs(topologyGap(torus({ rows: 4, cols: 4 }), 16) - 0.4) < 1e-12);
 * ```
 */
export function torus(options: TorusOptions = {}): TorusTopology {
  const { rows, cols } = options;
  for (const [label, value] of [["rows", rows], ["cols", cols]] as const) {
    if (value !== undefined && !isIntegerAtLeast(value, 1)) {
      throw new RangeError(`Cannot create torus: ${label} "${value}" is not a positive integer`);
    }
  }
  return Object.freeze({ kind: "torus", rows: rows ?? null, cols: cols ?? null });
}

/**
 * The most square grid for `n` workers: `rows` is the largest divisor of `n` not above `√n`, so
 * `rows ≤ cols` and `rows × cols = n` (a prime `n` gives a single row, which is a ring).
 *
 * @param n Number of workers.
 * @returns `{ rows, cols }` with `rows * cols === n`.
 * @throws {RangeError} When `n` is not a positive integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { torusShape } from "./mod.ts";
 *
 * assert.deepEqual(torusShape(12), { rows: 3, cols: 4 });
 * assert.deepEqual(torusShape(7), { rows: 1, cols: 7 });
 * ```
 */
export function torusShape(n: number): { rows: number; cols: number } {
  checkWorkers(n, "Cannot choose torus shape");
  let rows = Math.floor(Math.sqrt(n));
  while (n % rows !== 0) rows--;
  return { rows, cols: n / rows };
}

/**
 * The torus mixing matrix: self and the four wrapped neighbours (up, down, left, right) get 1/5
 * each. When two of them are the same rank (a side of length 2) or are the rank itself (a side
 * of length 1) their weights are added, so every row still sums to 1 and `W` stays symmetric.
 *
 * @param rows Grid rows.
 * @param cols Grid columns.
 * @returns The `(rows·cols)²` matrix (receiver convention).
 * @throws {RangeError} When `rows` or `cols` is not a positive integer.
 *
 * @example A 2×2 torus: the vertical and the horizontal neighbour each count twice
 * ```ts
 * import assert from "node:assert/strict";
 * import { torusWeights } from "./mod.ts";
 *
 * assert.deepEqual(torusWeights(2, 2)[0], [0.2, 0.4, 0.4, 0]);
 * ```
 */
export function torusWeights(rows: number, cols: number): number[][] {
  for (const [label, value] of [["rows", rows], ["cols", cols]] as const) {
    if (!isIntegerAtLeast(value, 1)) {
      throw new RangeError(
        `Cannot build torus weights: ${label} "${value}" is not a positive integer`,
      );
    }
  }
  const n = rows * cols;
  const w = zeros(n);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const peers = [
        i,
        mod(r - 1, rows) * cols + c,
        mod(r + 1, rows) * cols + c,
        r * cols + mod(c - 1, cols),
        r * cols + mod(c + 1, cols),
      ];
      for (const j of peers) w[i]![j]! += 1 / 5;
    }
  }
  return w;
}
