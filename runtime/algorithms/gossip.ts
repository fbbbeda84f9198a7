/**
 * D-PSGD, decentralized parallel SGD over a doubly stochastic topology (docs/algorithms.md
 * §1.3).
 *
 * @module
 */

import type { GossipNode } from "../../dsl/plan.ts";
import type { BaseAlgorithm, BaseContext } from "./types.ts";
import { checkSameLength } from "./_vector.ts";
import { exchangeWithNeighbours, neighborsOverMembers, type WeightedModel } from "./neighbours.ts";

/**
 * One D-PSGD update, combine-then-adapt (Lian et al. 2017, Algorithm 1):
 * `x_i ← W_ii x_i + Σ_j W_ij x_j − γ_k · dir_i`, where the `x_j` are the neighbours' pre-step
 * models and `dir_i` was computed from the gradient at the pre-mixing `x_i`. Sums run in
 * float64 in the order given (ascending rank from `neighbors`) and are rounded once.
 *
 * @param x This worker's pre-step model `x_i`.
 * @param selfWeight `W_ii`.
 * @param received The neighbours' models with their weights `W_ij`.
 * @param lr The learning rate `γ_k`.
 * @param dir The direction `dir_i`.
 * @returns The new model, a fresh vector.
 * @throws {RangeError} When a vector's length differs from `x`'s.
 * @example Two workers averaging, then a step
 * ```ts
 * import assert from "node:assert/strict";
 * import { gossipUpdate } from "./gossip.ts";
 *
 * const next = gossipUpdate(
 *   new Float32Array([1, 2]),
 *   0.5,
 *   [{ weight: 0.5, data: new Float32Array([3, 4]) }],
 *   0.5,
 *   new Float32Array([2, 2]),
 * );
 * assert.deepEqual([...next], [1, 2]);
 * ```
 */
export function gossipUpdate(
  x: Float32Array,
  selfWeight: number,
  received: readonly WeightedModel[],
  lr: number,
  dir: Float32Array,
): Float32Array {
  checkSameLength(x, dir, "direction");
  for (const peer of received) checkSameLength(x, peer.data, "a neighbour's model");
  const out = new Float32Array(x.length);
  for (let t = 0; t < x.length; t++) {
    let sum = selfWeight * x[t]!;
    for (const peer of received) sum += peer.weight * peer.data[t]!;
    out[t] = sum - lr * dir[t]!;
  }
  return out;
}

/**
 * The `gossip(topology)` base, D-PSGD (Lian et al., "Can decentralized algorithms outperform
 * centralized algorithms?", NeurIPS 2017), combine-then-adapt: at step `k` worker `i` computes
 * `g_i` at its pre-mixing `x_i` and `dir_i` from it, sends its pre-step `x_i` to every
 * out-neighbour of `W(k)` (phase `"base"`), receives `x_j` from every in-neighbour, and sets
 * `x_i ← Σ_j W_ij(k) x_j − γ_k · dir_i`. Time-varying topologies use step `k`'s matrix.
 *
 * @param node The `gossip` node.
 * @param context The worker's communicator, `x_0`, optimizer and gradient oracle.
 * @returns The worker's base algorithm; `model()` returns a copy of `x_i`.
 * @throws {RangeError} When the topology does not fit the number of workers.
 */
export function gossipBase(node: GossipNode, context: BaseContext): BaseAlgorithm {
  const { comm, optimizer, gradient } = context;
  const neighborsAt = neighborsOverMembers(node.topology, comm);
  let x: Float32Array = context.x0.slice();
  // The gradient's buffer, reused every step: nothing keeps it past the step.
  const scratch = new Float32Array(x.length);
  return {
    async step(k, lr) {
      const { loss, grad } = await gradient(x, scratch);
      const dir = optimizer.direction(grad, x);
      const neighbours = neighborsAt(k);
      const received = await exchangeWithNeighbours(comm, neighbours, x, "gossip");
      x = gossipUpdate(x, neighbours.selfWeight, received, lr, dir);
      return { loss };
    },
    model: () => x.slice(),
    setModel(value) {
      checkSameLength(x, value, "the new model");
      x = value.slice();
    },
    buffers: () => [{ name: "gossip.x", data: x, momentum: false }],
    resetMomentum() {},
  };
}
