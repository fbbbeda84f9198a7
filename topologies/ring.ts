/**
 * Ring topology: each rank averages with its two neighbours.
 *
 * The cheapest connected undirected graph (two messages per step) and the slowest to mix: its
 * spectral gap `(2/3)(1 − cos(2π/n))` shrinks like `1/n²`.
 *
 * @module
 */

import type { RingTopology } from "./types.ts";

/**
 * Creates a ring topology node: `W_ii = W_{i,i±1} = 1/3` for n ≥ 3; n = 2 is exact averaging
 * (the two neighbours are the same rank) and n = 1 is `[[1]]`.
 *
 * Usable bare (`gossip(ring)`) or called (`gossip(ring())`), see `resolveTopology`.
 *
 * @returns A frozen `{ kind: "ring" }` node.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mixingMatrix, ring } from "./mod.ts";
 *
 * assert.deepEqual(ring(), { kind: "ring" });
 * assert.deepEqual(mixingMatrix(ring(), 4)[0], [1 / 3, 1 / 3, 0, 1 / 3]);
 * assert.deepEqual(mixingMatrix(ring(), 2), [[0.5, 0.5], [0.5, 0.5]]);
 * ```
 */
export function ring(): RingTopology {
  return Object.freeze({ kind: "ring" });
}
