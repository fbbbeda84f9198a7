/**
 * 2-D torus topology: ranks on a `rows × cols` grid with wrap-around, each averaging with its
 * four grid neighbours.
 *
 * Four messages per step buy a spectral gap that shrinks like `1/n` instead of the ring's `1/n²`.
 * Rank `r·cols + c` sits at row `r`, column `c`. Each of self, up, down, left and right gets 1/5;
 * coincident neighbours (a side of length 2 or 1) add their weights.
 *
 * @module
 */

import type { TorusTopology } from "./types.ts";
import { isIntegerAtLeast } from "./_args.ts";
import { type OptionNames, unknownOptions, withProblems } from "../strict_options.ts";

/** Options of {@linkcode torus}. */
export interface TorusOptions {
  /** Rows of the grid (default: from the workers). */
  readonly rows?: number;
  /** Columns of the grid (default: from the workers). */
  readonly cols?: number;
}

const OPTIONS: OptionNames<TorusOptions> = { rows: true, cols: true };

/**
 * Creates a torus topology node. Omitted `rows`/`cols` are stored as `null` and resolved against
 * the number of workers later: both omitted means the most square grid (`torusShape`), one
 * omitted means `n` divided by the other. An option it does not know is reported when the plan
 * compiles, with the one it probably meant.
 *
 * @param options Grid shape, both optional.
 * @returns A frozen `{ kind: "torus", rows, cols }` node.
 * @throws {RangeError} When `rows` or `cols` is given and is not a positive integer.
 *
 * @example A 2×2 torus: the vertical and the horizontal neighbour each count twice
 * ```ts
 * import assert from "node:assert/strict";
 * import { mixingMatrix, torus } from "./mod.ts";
 *
 * assert.deepEqual(torus(), { kind: "torus", rows: null, cols: null });
 * assert.deepEqual(mixingMatrix(torus({ rows: 2, cols: 2 }), 4)[0], [0.2, 0.4, 0.4, 0]);
 * ```
 */
export function torus(options: TorusOptions = {}): TorusTopology {
  const { rows, cols } = options;
  for (const [label, value] of [["rows", rows], ["cols", cols]] as const) {
    if (value !== undefined && !isIntegerAtLeast(value, 1)) {
      throw new RangeError(`Cannot create torus: ${label} "${value}" is not a positive integer`);
    }
  }
  const node = { kind: "torus", rows: rows ?? null, cols: cols ?? null } as const;
  return Object.freeze(withProblems(node, unknownOptions(options, OPTIONS)));
}
