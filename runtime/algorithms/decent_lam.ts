/**
 * DecentLaM, decentralized large-batch momentum SGD (docs/algorithms.md §1.6).
 *
 * @module
 */

import type { DecentLaMNode } from "../../dsl/plan.ts";
import type { BaseAlgorithm, BaseContext } from "./types.ts";
import { checkSameLength } from "./_vector.ts";
import { exchangeWithNeighbours, neighborsOverMembers, type WeightedModel } from "./neighbours.ts";

/**
 * DecentLaM's implied gradient `ĝ_i = (x_i − r_i) / γ` of the mixed half steps
 * `r_i = Σ_j W_ij y_j`, `y_j = x_j − γ g_j`, computed in float64 without forming `r_i`: with
 * `W_ii = 1 − Σ_{j≠i} W_ij` (rows of a doubly stochastic matrix sum to 1),
 * `ĝ_i = W_ii g_i + Σ_{j≠i} W_ij (x_i − y_j) / γ`. The self term is exact (no float32 half step
 * of its own is rounded and then divided by a small `γ`); only the neighbours' float32 half steps
 * carry rounding.
 *
 * @param x This worker's model `x_i`.
 * @param g This worker's gradient `g_i` (with weight decay).
 * @param selfWeight `W_ii`.
 * @param received The neighbours' half steps `y_j` with their weights `W_ij`.
 * @param lr The learning rate `γ_k` (positive).
 * @returns `ĝ_i` in float64.
 * @throws {RangeError} When `lr` is not positive and finite, or lengths differ.
 * @example Without neighbours the implied gradient is the gradient
 * ```ts
 * import assert from "node:assert/strict";
 * import { impliedGradient } from "./decent_lam.ts";
 *
 * const g = impliedGradient(Float32Array.of(1), Float32Array.of(0.25), 1, [], 0.001);
 * assert.deepEqual([...g], [0.25]);
 * ```
 */
export function impliedGradient(
  x: Float32Array,
  g: Float32Array,
  selfWeight: number,
  received: readonly WeightedModel[],
  lr: number,
): Float64Array {
  if (!(lr > 0) || !Number.isFinite(lr)) {
    throw new RangeError(
      `Cannot run decentLaM: it divides by the learning rate, but the learning rate is "${lr}"`,
    );
  }
  checkSameLength(x, g, "gradient");
  for (const peer of received) checkSameLength(x, peer.data, "a neighbour's half step");
  const out = new Float64Array(x.length);
  for (let t = 0; t < x.length; t++) {
    let pull = 0;
    for (const peer of received) pull += peer.weight * (x[t]! - peer.data[t]!);
    out[t] = selfWeight * g[t]! + pull / lr;
  }
  return out;
}

/**
 * The `decentLaM(topology, { beta })` base (Yuan, Chen, Huang, Zhang, Pan, Xu, Yin, "DecentLaM:
 * Decentralized momentum SGD for large-batch deep training", ICCV 2021): at step `k` worker `i`
 * takes `g_i` at `x_i` (plus weight decay, from the plain-SGD optimizer), sends its half step
 * `y_i = x_i − γ_k g_i` to every out-neighbour of `W(k)` (phase `"base"`), forms the implied
 * gradient `ĝ_i = (x_i − Σ_j W_ij y_j) / γ_k` ({@linkcode impliedGradient}, float64), then
 * `m_i = β m_i + ĝ_i` and `x_i −= γ_k m_i`.
 *
 * Unlike DmSGD, whose momentum amplifies the inconsistency between workers, DecentLaM's fixed
 * point is that of momentum-free adapt-then-combine gossip, whatever `β`. The momentum `m_i`
 * (float32) is a buffer of the base (`decentLaM.momentum`). The learning rate must be positive
 * at every step (the validator checks the schedule; the step checks again before it sends, so
 * every rank fails alike).
 *
 * @param node The `decentLaM` node.
 * @param context The worker's communicator, `x_0`, optimizer and gradient oracle.
 * @returns The worker's base algorithm; `model()` returns a copy of `x_i`.
 * @throws {RangeError} When the topology does not fit the number of workers; from `step`, when
 *   `γ_k` is not positive.
 */
export function decentLaMBase(node: DecentLaMNode, context: BaseContext): BaseAlgorithm {
  const { comm, optimizer, gradient } = context;
  const neighborsAt = neighborsOverMembers(node.topology, comm);
  const momentum = new Float32Array(context.x0.length);
  let x: Float32Array = context.x0.slice();
  // The gradient's buffer, reused every step: nothing keeps it past the step.
  const scratch = new Float32Array(x.length);
  return {
    async step(k, lr) {
      if (!(lr > 0) || !Number.isFinite(lr)) {
        throw new RangeError(
          `Cannot run decentLaM at step ${k}: it divides by the learning rate, but the learning rate is "${lr}"`,
        );
      }
      const { loss, grad } = await gradient(x, scratch);
      const g = optimizer.direction(grad, x);
      const half = new Float32Array(x.length);
      for (let t = 0; t < x.length; t++) half[t] = x[t]! - lr * g[t]!;
      const neighbours = neighborsAt(k);
      const received = await exchangeWithNeighbours(comm, neighbours, half, "decentLaM");
      const implied = impliedGradient(x, g, neighbours.selfWeight, received, lr);
      const next = new Float32Array(x.length);
      for (let t = 0; t < x.length; t++) {
        momentum[t] = node.beta * momentum[t]! + implied[t]!;
        next[t] = x[t]! - lr * momentum[t]!;
      }
      x = next;
      return { loss };
    },
    model: () => x.slice(),
    setModel(value) {
      checkSameLength(x, value, "the new model");
      x = value.slice();
    },
    buffers: () => [
      { name: "decentLaM.x", data: x, momentum: false },
      { name: "decentLaM.momentum", data: momentum, momentum: true },
    ],
    resetMomentum() {
      momentum.fill(0);
    },
  };
}
