/**
 * Time-varying one-peer exponential graph (Ying et al., NeurIPS 2021): at step `k` each rank
 * averages with the single rank `i − 2^e`, where `e = k mod ⌈log2 n⌉`.
 *
 * One message per step, and for n a power of two the product of the matrices over one period is
 * exact averaging: after `log2 n` steps every worker holds the global mean. For other n the
 * product is not exact, but the graph still mixes.
 *
 * @module
 */

import type { OnePeerExponentialTopology } from "./types.ts";
import { ceilLog2, checkStep, checkWorkers, mod, zeros } from "./_args.ts";

/**
 * Creates a one-peer exponential topology node.
 *
 * @returns A frozen `{ kind: "onePeerExponential" }` node.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { onePeerExponential, period } from "./mod.ts";
 *
 * assert.deepEqual(onePeerExponential(), { kind: "onePeerExponential" });
 * assert.equal(period(onePeerExponential(), 8), 3);
 * ```
 */
export function onePeerExponential(): OnePeerExponentialTopology {
  return Object.freeze({ kind: "onePeerExponential" });
}

/**
 * Number of distinct matrices of the one-peer exponential graph: `⌈log2 n⌉`, at least 1 (for
 * n = 1 the single matrix is `[[1]]`).
 *
 * @param n Number of workers.
 * @returns The period in steps.
 * @throws {RangeError} When `n` is not a positive integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { onePeerExponentialPeriod } from "./mod.ts";
 *
 * assert.equal(onePeerExponentialPeriod(12), 4);
 * assert.equal(onePeerExponentialPeriod(1), 1);
 * ```
 */
export function onePeerExponentialPeriod(n: number): number {
  checkWorkers(n, "Cannot compute one-peer exponential period");
  return Math.max(1, ceilLog2(n));
}

/**
 * The one-peer exponential mixing matrix at a step: `W_ii = 1/2` and
 * `W_{i, i − 2^e (mod n)} = 1/2` with `e = step mod ⌈log2 n⌉`.
 *
 * @param n Number of workers.
 * @param step Training step (any non-negative integer; the graph repeats every period).
 * @returns The n×n matrix (receiver convention).
 * @throws {RangeError} When `n` is not a positive integer or `step` is not a non-negative integer.
 *
 * @example Step 1 of 4 ranks pairs i with i − 2
 * ```ts
 * import assert from "node:assert/strict";
 * import { onePeerExponentialWeights } from "./mod.ts";
 *
 * assert.deepEqual(onePeerExponentialWeights(4, 1)[0], [0.5, 0, 0.5, 0]);
 * ```
 */
export function onePeerExponentialWeights(n: number, step: number): number[][] {
  checkWorkers(n, "Cannot build one-peer exponential weights");
  checkStep(step, "Cannot build one-peer exponential weights");
  if (n === 1) return [[1]];
  const e = step % ceilLog2(n);
  const w = zeros(n);
  for (let i = 0; i < n; i++) {
    w[i]![i] = 0.5;
    w[i]![mod(i - 2 ** e, n)] = 0.5;
  }
  return w;
}
