/**
 * Decentralized momentum SGD, adapt-then-combine (docs/algorithms.md §1.5).
 *
 * @module
 */

import type { DmSgdNode } from "../../dsl/plan.ts";
import type { BaseAlgorithm, BaseContext } from "./types.ts";
import { checkSameLength } from "./_vector.ts";
import { exchangeWithNeighbours, neighborsOverMembers, type WeightedModel } from "./neighbours.ts";

/**
 * Mixes half steps: `Σ_j W_ij y_j` with the self term `W_ii y_i` first, then the neighbours in
 * the order given (ascending rank), summed in float64 and rounded to float32 once.
 *
 * @param own This worker's half step `y_i`.
 * @param selfWeight `W_ii`.
 * @param received The neighbours' half steps with their weights `W_ij`.
 * @returns The mixed vector, a fresh float32 vector.
 * @throws {RangeError} When a vector's length differs from `own`'s.
 * @example Two workers averaging
 * ```ts
 * import assert from "node:assert/strict";
 * import { mixHalfSteps } from "./dm_sgd.ts";
 *
 * const mixed = mixHalfSteps(Float32Array.of(1, 2), 0.5, [
 *   { weight: 0.5, data: Float32Array.of(3, 6) },
 * ]);
 * assert.deepEqual([...mixed], [2, 4]);
 * ```
 */
export function mixHalfSteps(
  own: Float32Array,
  selfWeight: number,
  received: readonly WeightedModel[],
): Float32Array {
  for (const peer of received) checkSameLength(own, peer.data, "a neighbour's half step");
  const out = new Float32Array(own.length);
  for (let t = 0; t < own.length; t++) {
    let sum = selfWeight * own[t]!;
    for (const peer of received) sum += peer.weight * peer.data[t]!;
    out[t] = sum;
  }
  return out;
}

/**
 * The `dmSgd(topology, { beta })` base, decentralized momentum SGD in adapt-then-combine form
 * (DmSGD as analysed by Yuan et al., "DecentLaM", ICCV 2021, and Gao & Huang 2020): at step
 * `k` worker `i` takes `g_i` at `x_i` (plus weight decay, from the plain-SGD optimizer), sets
 * `m_i = β m_i + g_i`, sends its half step `y_i = x_i − γ_k m_i` to every out-neighbour of
 * `W(k)` (phase `"base"`), and mixes `x_i ← Σ_j W_ij(k) y_j`.
 *
 * The momentum `m_i` (float32) is a buffer of the base (`dmSgd.momentum`), so buffer policies at
 * an outer step reach it. The optimizer must be plain SGD (the validator says so): its direction
 * is the gradient with weight decay.
 *
 * @param node The `dmSgd` node.
 * @param context The worker's communicator, `x_0`, optimizer and gradient oracle.
 * @returns The worker's base algorithm; `model()` returns a copy of `x_i`.
 * @throws {RangeError} When the topology does not fit the number of workers.
 */
export function dmSgdBase(node: DmSgdNode, context: BaseContext): BaseAlgorithm {
  const { comm, optimizer, gradient } = context;
  const neighborsAt = neighborsOverMembers(node.topology, comm);
  const momentum = new Float32Array(context.x0.length);
  let x: Float32Array = context.x0.slice();
  // The gradient's buffer, reused every step: nothing keeps it past the step.
  const scratch = new Float32Array(x.length);
  return {
    async step(k, lr) {
      const { loss, grad } = await gradient(x, scratch);
      const g = optimizer.direction(grad, x);
      const half = new Float32Array(x.length);
      for (let t = 0; t < x.length; t++) {
        momentum[t] = node.beta * momentum[t]! + g[t]!;
        half[t] = x[t]! - lr * momentum[t]!;
      }
      const neighbours = neighborsAt(k);
      const received = await exchangeWithNeighbours(comm, neighbours, half, "dmSgd");
      x = mixHalfSteps(half, neighbours.selfWeight, received);
      return { loss };
    },
    model: () => x.slice(),
    setModel(value) {
      checkSameLength(x, value, "the new model");
      x = value.slice();
    },
    buffers: () => [
      { name: "dmSgd.x", data: x, momentum: false },
      { name: "dmSgd.momentum", data: momentum, momentum: true },
    ],
    resetMomentum() {
      momentum.fill(0);
    },
  };
}
