/**
 * SlowMo, slow momentum over any base (docs/algorithms.md §2.1).
 *
 * @module
 */

import type { SlowMoNode } from "../../dsl/plan.ts";
import type { OuterAlgorithm, StepContext } from "./types.ts";
import { checkSameLength, endsPeriod } from "./_vector.ts";

/** SlowMo's state, kept in float64: the anchor `x_prev` and the slow momentum `u`. */
export interface SlowMoState {
  /** The anchor `x_prev` every worker restarted from at the last outer step. */
  readonly anchor: Float64Array;
  /** The slow momentum `u`. */
  readonly momentum: Float64Array;
}

/**
 * The SlowMo outer update (Wang, Tantia, Ballas, Rabbat, ICLR 2020, Algorithm 1):
 * `u = β u + (x_prev − x̄)/γ_k`; `x_prev = x_prev − α γ_k u`. The state is float64, so with
 * `α = 1, β = 0` the new anchor rounds back to `x̄` exactly.
 *
 * @param state The current anchor and momentum; not modified.
 * @param average The exact average `x̄` of the workers' models.
 * @param lr The learning rate `γ_k` of the step that ends the period (must be positive).
 * @param settings Slow rate `α` and slow momentum `β`.
 * @returns The new state.
 * @throws {RangeError} When `lr` is not a positive finite number, or lengths differ.
 * @example One outer step from `x_prev = 1` to `x̄ = 0.5` with `γ = 0.1`
 * ```ts
 * import assert from "node:assert/strict";
 * import { slowMoUpdate } from "./slow_mo.ts";
 *
 * const state = { anchor: new Float64Array([1]), momentum: new Float64Array([0]) };
 * const next = slowMoUpdate(state, new Float32Array([0.5]), 0.1, { alpha: 1, beta: 0.5 });
 * assert.ok(Math.abs(next.momentum[0]! - 5) < 1e-12); // (1 − 0.5) / 0.1
 * assert.ok(Math.abs(next.anchor[0]! - 0.5) < 1e-12); // 1 − 1 · 0.1 · 5
 * ```
 */
export function slowMoUpdate(
  state: SlowMoState,
  average: Float32Array,
  lr: number,
  settings: Pick<SlowMoNode, "alpha" | "beta">,
): SlowMoState {
  if (!(lr > 0) || !Number.isFinite(lr)) {
    throw new RangeError(
      `Cannot run slowMo outer step: it divides by the learning rate, but the learning rate is "${lr}"`,
    );
  }
  checkSameLength(state.anchor, average, "the average model");
  const { alpha, beta } = settings;
  const anchor = new Float64Array(average.length);
  const momentum = new Float64Array(average.length);
  for (let t = 0; t < average.length; t++) {
    const u = beta * state.momentum[t]! + (state.anchor[t]! - average[t]!) / lr;
    momentum[t] = u;
    anchor[t] = state.anchor[t]! - alpha * lr * u;
  }
  return { anchor, momentum };
}

/**
 * The `slowMo({ tau, beta, alpha, buffers })` outer algorithm (Wang et al., "SlowMo: Improving
 * communication-efficient distributed SGD with slow momentum", ICLR 2020). State `x_prev = x_0`,
 * `u = 0`. After step `k` with `(k + 1) mod tau == 0`: `x̄ = avg_i(base.model())` by one exact
 * all-reduce (phase `"outer"`; for an `sgp` base `model()` is the de-biased `z_i`), then
 * {@linkcode slowMoUpdate}, every worker restarts from `x_prev` (`base.setModel`, which also
 * resets sgp's weight to 1), then the buffer policy (`"average"` under `"outer"`).
 *
 * The learning rate is checked before any communication, so a zero rate fails on every rank
 * with the same error instead of leaving peers waiting.
 *
 * @param node The `slowMo` node.
 * @param context The worker's communicator, `x_0` and buffer policy.
 * @returns The worker's outer algorithm; its buffers are `slowMo.anchor` and
 *   `slowMo.momentum` (float64).
 * @throws {RangeError} From `afterStep`, when `γ_k` is not positive at an outer step.
 */
export function slowMoOuter(node: SlowMoNode, context: StepContext): OuterAlgorithm {
  const { comm } = context;
  const state: SlowMoState = {
    anchor: Float64Array.from(context.x0),
    momentum: new Float64Array(context.x0.length),
  };
  return {
    async afterStep(k, lr, base) {
      if (!endsPeriod(k, node.tau)) return;
      if (!(lr > 0) || !Number.isFinite(lr)) {
        throw new RangeError(
          `Cannot run slowMo outer step at step ${k}: it divides by the learning rate, but the learning rate is "${lr}"`,
        );
      }
      const average = await comm.allReduceMean(base.model(), "outer");
      const next = slowMoUpdate(state, average, lr, node);
      state.anchor.set(next.anchor);
      state.momentum.set(next.momentum);
      base.setModel(Float32Array.from(state.anchor));
      await context.syncBuffers(node.buffers, "outer");
    },
    buffers: () => [
      { name: "slowMo.anchor", data: state.anchor, momentum: false },
      { name: "slowMo.momentum", data: state.momentum, momentum: false },
    ],
    resetMomentum() {},
  };
}
