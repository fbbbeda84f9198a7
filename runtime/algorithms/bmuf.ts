/**
 * BMUF, blockwise model-update filtering (docs/algorithms.md §2.2).
 *
 * @module
 */

import type { BmufNode } from "../../dsl/plan.ts";
import { bmufBlockMomentum } from "../../dsl/outers/mod.ts";
import type { OuterAlgorithm, StepContext } from "./types.ts";
import { checkSameLength, endsPeriod } from "./_vector.ts";

/** BMUF's state, kept in float64: the global model `W` and the filtered update `Δ`. */
export interface BmufState {
  /** The global model `W`. */
  readonly global: Float64Array;
  /** The filtered block update `Δ`. */
  readonly delta: Float64Array;
}

/** BMUF's hyper-parameters with the block momentum resolved. */
export interface BmufSettings {
  /** Block learning rate `ζ`. */
  readonly blockLr: number;
  /** Block momentum `η`. */
  readonly blockMomentum: number;
  /** Restart from `W + η Δ` instead of `W`. */
  readonly nesterov: boolean;
}

/**
 * The BMUF block update (Chen & Huo, "Scalable training of deep learning machines by
 * incremental block training with intra-block parallel optimization and blockwise model-update
 * filtering", ICASSP 2016): `G = x̄ − W`; `Δ = η Δ + ζ G`; `W = W + Δ`; workers restart from
 * `W` (classical block momentum) or `W + η Δ` (Nesterov-like block momentum).
 *
 * @param state The current global model and update; not modified.
 * @param average The exact average `x̄` of the workers' models.
 * @param settings `ζ`, `η` and Nesterov.
 * @returns The new state and the float32 model the workers restart from.
 * @throws {RangeError} When lengths differ.
 * @example With `ζ = 1, η = 0` BMUF is model averaging
 * ```ts
 * import assert from "node:assert/strict";
 * import { bmufUpdate } from "./bmuf.ts";
 *
 * const state = { global: new Float64Array([1]), delta: new Float64Array([0]) };
 * const { restart } = bmufUpdate(state, new Float32Array([0.25]), {
 *   blockLr: 1,
 *   blockMomentum: 0,
 *   nesterov: false,
 * });
 * assert.deepEqual([...restart], [0.25]);
 * ```
 */
export function bmufUpdate(
  state: BmufState,
  average: Float32Array,
  settings: BmufSettings,
): { readonly state: BmufState; readonly restart: Float32Array } {
  checkSameLength(state.global, average, "the average model");
  const { blockLr: zeta, blockMomentum: eta, nesterov } = settings;
  const global = new Float64Array(average.length);
  const delta = new Float64Array(average.length);
  const restart = new Float32Array(average.length);
  for (let t = 0; t < average.length; t++) {
    const g = average[t]! - state.global[t]!;
    delta[t] = eta * state.delta[t]! + zeta * g;
    global[t] = state.global[t]! + delta[t]!;
    restart[t] = nesterov ? global[t]! + eta * delta[t]! : global[t]!;
  }
  return { state: { global, delta }, restart };
}

/**
 * The `bmuf({ tau, blockLr, blockMomentum, nesterov })` outer algorithm (Chen & Huo 2016).
 * State `W = x_0`, `Δ = 0`. After step `k` with `(k + 1) mod tau == 0`:
 * `x̄ = avg_i(base.model())` by one exact all-reduce (phase `"outer"`), then
 * {@linkcode bmufUpdate} with `η = bmufBlockMomentum(node, n)` (`1 − 1/n` when unset), and every
 * worker restarts from the result. Optimizer buffers are kept (BMUF has no buffer policy).
 * With a constant learning rate, `bmuf(ζ = α, η = β)` equals `slowMo(alpha: α, beta: β)`.
 *
 * @param node The `bmuf` node.
 * @param context The worker's communicator and `x_0`.
 * @returns The worker's outer algorithm; its buffers are `bmuf.global` and `bmuf.delta`
 *   (float64).
 */
export function bmufOuter(node: BmufNode, context: StepContext): OuterAlgorithm {
  const { comm } = context;
  const settings: BmufSettings = {
    blockLr: node.blockLr,
    blockMomentum: bmufBlockMomentum(node, comm.size),
    nesterov: node.nesterov,
  };
  const state: BmufState = {
    global: Float64Array.from(context.x0),
    delta: new Float64Array(context.x0.length),
  };
  return {
    async afterStep(k, _lr, base) {
      if (!endsPeriod(k, node.tau)) return;
      const average = await comm.allReduceMean(base.model(), "outer");
      const next = bmufUpdate(state, average, settings);
      state.global.set(next.state.global);
      state.delta.set(next.state.delta);
      base.setModel(next.restart);
    },
    buffers: () => [
      { name: "bmuf.global", data: state.global, momentum: false },
      { name: "bmuf.delta", data: state.delta, momentum: false },
    ],
    resetMomentum() {},
  };
}
