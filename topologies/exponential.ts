/**
 * Static exponential graph (Ying et al., NeurIPS 2021): rank `i` receives from `i − 2^e (mod n)`
 * for `e = 0..⌈log2 n⌉−1`.
 *
 * `⌈log2 n⌉` messages per step give a spectral gap of `2/(1 + log2 n)` for n a power of two,
 * almost independent of n. The graph is directed (i sends to `i + 2^e`, receives from `i − 2^e`),
 * but every rank has the same in- and out-degree, so uniform weights are doubly stochastic.
 *
 * @module
 */

import type { ExponentialTopology } from "./types.ts";
import { ceilLog2, checkWorkers, mod, zeros } from "./_args.ts";

/**
 * Creates a static exponential topology node.
 *
 * @returns A frozen `{ kind: "exponential" }` node.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exponential, topologyGap } from "./mod.ts";
 *
 * assert.deepEqual(exponential(), { kind: "exponential" });
 * assert.ok(Math.abs(topologyGap(exponential(), 16) - 2 / 5) < 1e-12);
 * ```
 */
export function exponential(): ExponentialTopology {
  return Object.freeze({ kind: "exponential" });
}

/**
 * The exponential graph's mixing matrix: uniform `1/(⌈log2 n⌉ + 1)` over self and the ranks
 * `i − 2^e (mod n)`. Those peers are always distinct and never `i` itself, because
 * `2^e < n` for every `e < ⌈log2 n⌉`.
 *
 * @param n Number of workers.
 * @returns The n×n matrix (receiver convention).
 * @throws {RangeError} When `n` is not a positive integer.
 *
 * @example Rank 0 of 5 receives from 4, 3 and 1
 * ```ts
 * import assert from "node:assert/strict";
 * import { exponentialWeights } from "./mod.ts";
 *
 * assert.deepEqual(exponentialWeights(5)[0], [0.25, 0.25, 0, 0.25, 0.25]);
 * ```
 */
export function exponentialWeights(n: number): number[][] {
  checkWorkers(n, "Cannot build exponential weights");
  const exponents = ceilLog2(n);
  const weight = 1 / (exponents + 1);
  const w = zeros(n);
  for (let i = 0; i < n; i++) {
    w[i]![i] = weight;
    for (let e = 0; e < exponents; e++) w[i]![mod(i - 2 ** e, n)] = weight;
  }
  return w;
}
