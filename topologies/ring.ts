/**
 * Ring topology: each rank averages with its two neighbours.
 *
 * The cheapest connected undirected graph (two messages per step) and the slowest to mix: its
 * spectral gap `(2/3)(1 − cos(2π/n))` shrinks like `1/n²`.
 *
 * @module
 */

import type { RingTopology } from "./types.ts";
import { checkWorkers, mod, zeros } from "./_args.ts";

/**
 * Creates a ring topology node: `W_ii = W_{i,i±1} = 1/3` for n ≥ 3, exact averaging for n = 2.
 *
 * Usable bare (`gossip(ring)`) or called (`gossip(ring())`).
 *
 * @returns A frozen `{ kind: "ring" }` node.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mixingMatrix, ring } from "./mod.ts";
 *
 * assert.deepEqual(ring(), { kind: "ring" });
 * assert.deepEqual(mixingMatrix(ring(), 3)[0], [1 / 3, 1 / 3, 1 / 3]);
 * ```
 */
export function ring(): RingTopology {
  return Object.freeze({ kind: "ring" });
}

/**
 * The ring's mixing matrix for `n` workers.
 *
 * With n = 2 the two neighbours `i ± 1` are the same rank; rather than 1/3 self and 2/3 other,
 * the ring uses exact averaging (1/2 each), which is what a two-worker ring obviously means.
 *
 * @param n Number of workers.
 * @returns The n×n matrix (receiver convention).
 * @throws {RangeError} When `n` is not a positive integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ringWeights } from "./mod.ts";
 *
 * assert.deepEqual(ringWeights(2), [[0.5, 0.5], [0.5, 0.5]]);
 * assert.deepEqual(ringWeights(4)[0], [1 / 3, 1 / 3, 0, 1 / 3]);
 * ```
 */
export function ringWeights(n: number): number[][] {
  checkWorkers(n, "Cannot build ring weights");
  if (n === 1) return [[1]];
  if (n === 2) return [[0.5, 0.5], [0.5, 0.5]];
  const w = zeros(n);
  for (let i = 0; i < n; i++) {
    w[i]![i] = 1 / 3;
    w[i]![mod(i - 1, n)] = 1 / 3;
    w[i]![mod(i + 1, n)] = 1 / 3;
  }
  return w;
}
