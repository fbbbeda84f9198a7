/**
 * Static exponential graph (Ying et al., NeurIPS 2021): rank `i` receives from `i − 2^e (mod n)`
 * for `e = 0..⌈log2 n⌉−1`, uniform weights over self and those peers.
 *
 * `⌈log2 n⌉` messages per step give a spectral gap of `2/(1 + log2 n)` for n a power of two,
 * shrinking only logarithmically with n. The graph is directed (i sends to `i + 2^e`), but every
 * rank has the same in- and out-degree, so uniform weights are doubly stochastic.
 *
 * @module
 */

import type { ExponentialTopology } from "./types.ts";

/**
 * Creates a static exponential topology node.
 *
 * @returns A frozen `{ kind: "exponential" }` node.
 *
 * @example Rank 0 of 5 receives from 4, 3 and 1 (0 − 1, 0 − 2, 0 − 4 mod 5)
 * ```ts
 * import assert from "node:assert/strict";
 * import { exponential, mixingMatrix } from "./mod.ts";
 *
 * assert.deepEqual(exponential(), { kind: "exponential" });
 * assert.deepEqual(mixingMatrix(exponential(), 5)[0], [0.25, 0.25, 0, 0.25, 0.25]);
 * ```
 */
export function exponential(): ExponentialTopology {
  return Object.freeze({ kind: "exponential" });
}
