/**
 * Per-rank view of a topology: whom to receive from and whom to send to at a step.
 *
 * @module
 */

import type { TopologyNode } from "./types.ts";
import type { Neighbors, Peer } from "./result_types.ts";
import { isIntegerAtLeast } from "./_args.ts";
import { mixingMatrix } from "./mixing_matrix.ts";

/**
 * The peers of one rank at one step: who it receives from (with the weights it applies,
 * `W[rank][j]`) and who it sends to (with the weights the receivers apply, `W[j][rank]`). A
 * worker needs only this to run a gossip step.
 *
 * @param topology Any topology node.
 * @param n Number of workers.
 * @param rank The asking rank, in `0..n-1`.
 * @param step Training step, default 0.
 * @returns The self weight and the receive and send lists, sorted by rank, without self.
 * @throws {RangeError} When the topology does not fit `n` workers (as `mixingMatrix`), or when
 * `rank` is not in `0..n-1`.
 *
 * @example Rank 0 of the directed exponential graph on 5 ranks
 * ```ts
 * import assert from "node:assert/strict";
 * import { exponential, neighbors } from "./mod.ts";
 *
 * const { selfWeight, receiveFrom, sendTo } = neighbors(exponential(), 5, 0);
 * assert.equal(selfWeight, 0.25);
 * assert.deepEqual(receiveFrom.map((peer) => peer.rank), [1, 3, 4]);
 * assert.deepEqual(sendTo.map((peer) => peer.rank), [1, 2, 4]);
 * ```
 */
export function neighbors(topology: TopologyNode, n: number, rank: number, step = 0): Neighbors {
  const w = mixingMatrix(topology, n, step);
  if (!isIntegerAtLeast(rank, 0) || rank >= n) {
    throw new RangeError(`Cannot list neighbors: rank "${rank}" is outside ranks 0..${n - 1}`);
  }
  const receiveFrom: Peer[] = [];
  const sendTo: Peer[] = [];
  for (let j = 0; j < n; j++) {
    if (j === rank) continue;
    if (w[rank]![j]! > 0) receiveFrom.push({ rank: j, weight: w[rank]![j]! });
    if (w[j]![rank]! > 0) sendTo.push({ rank: j, weight: w[j]![rank]! });
  }
  return { selfWeight: w[rank]![rank]!, receiveFrom, sendTo };
}
