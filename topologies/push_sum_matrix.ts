/**
 * The push-sum matrix used by Stochastic Gradient Push.
 *
 * @module
 */

import type { TopologyNode } from "./types.ts";
import { mixingMatrix } from "./mixing_matrix.ts";

/**
 * The column-stochastic push-sum matrix `P(step)` of SGP (docs/algorithms.md §1.4): rank `i` splits
 * its mass uniformly, `1/(outDegree + 1)`, over itself and its out-neighbours (the ranks `j ≠ i`
 * with `W_ji > 0`). A custom topology's matrix is used as given.
 *
 * Uniform out-weights need no knowledge of the receivers, which is what lets push-sum run on
 * directed graphs where `W` could not be made doubly stochastic; the push-sum weights `w_i`
 * de-bias the result.
 *
 * @param topology Any topology node.
 * @param n Number of workers.
 * @param step Training step, default 0.
 * @returns A fresh n×n matrix; `P[j][i]` is the share of rank `i`'s mass sent to rank `j`.
 * @throws {RangeError} When the topology does not fit `n` workers, as `mixingMatrix`.
 *
 * @example A star of 3 around hub 0: the hub splits three ways, each leaf two ways
 * ```ts
 * import assert from "node:assert/strict";
 * import { pushSumMatrix, star } from "./mod.ts";
 *
 * const t = 1 / 3;
 * assert.deepEqual(pushSumMatrix(star(), 3), [
 *   [t, 0.5, 0.5],
 *   [t, 0.5, 0],
 *   [t, 0, 0.5],
 * ]);
 * ```
 */
export function pushSumMatrix(topology: TopologyNode, n: number, step = 0): number[][] {
  const w = mixingMatrix(topology, n, step);
  if (topology.kind === "custom") return w;
  const p = w.map((row) => row.map(() => 0));
  for (let i = 0; i < n; i++) {
    const receivers = [i];
    for (let j = 0; j < n; j++) if (j !== i && w[j]![i]! > 0) receivers.push(j);
    for (const j of receivers) p[j]![i] = 1 / receivers.length;
  }
  return p;
}
