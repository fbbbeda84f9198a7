/**
 * Time-varying one-peer exponential graph (Ying et al., NeurIPS 2021): at step `k` each rank
 * averages with the single rank `i − 2^e (mod n)`, where `e = k mod ⌈log2 n⌉`.
 *
 * One message per step, and for n a power of two the product of the matrices over one period is
 * exact averaging: after `log2 n` steps every worker holds the global mean. For other n the
 * product is not exact, but the union graph is still strongly connected.
 *
 * @module
 */

import type { OnePeerExponentialTopology } from "./types.ts";

/**
 * Creates a one-peer exponential topology node: `W_ii = 1/2`, `W_{i, i − 2^e} = 1/2` with
 * `e = step mod ⌈log2 n⌉`; period `⌈log2 n⌉` (at least 1).
 *
 * @returns A frozen `{ kind: "onePeerExponential" }` node.
 *
 * @example Four ranks: step 0 pairs i with i − 1, step 1 with i − 2, step 2 repeats step 0
 * ```ts
 * import assert from "node:assert/strict";
 * import { mixingMatrix, onePeerExponential } from "./mod.ts";
 *
 * const topology = onePeerExponential();
 * assert.deepEqual(mixingMatrix(topology, 4, 0)[0], [0.5, 0, 0, 0.5]);
 * assert.deepEqual(mixingMatrix(topology, 4, 1)[0], [0.5, 0, 0.5, 0]);
 * assert.deepEqual(mixingMatrix(topology, 4, 2), mixingMatrix(topology, 4, 0));
 * ```
 */
export function onePeerExponential(): OnePeerExponentialTopology {
  return Object.freeze({ kind: "onePeerExponential" });
}
