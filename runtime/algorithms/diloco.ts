/**
 * DiLoCo, an outer Nesterov step on the averaged pseudo-gradient (docs/algorithms.md §2.3).
 *
 * @module
 */

import type { DilocoNode } from "../../dsl/plan.ts";
import type { OuterAlgorithm, StepContext } from "./types.ts";
import { checkSameLength, endsPeriod } from "./_vector.ts";

/** DiLoCo's state, kept in float64: the global model `θ` and the outer momentum `m`. */
export interface DilocoState {
  /** The global model `θ` every worker restarted from at the last outer step. */
  readonly global: Float64Array;
  /** The outer momentum `m`. */
  readonly momentum: Float64Array;
}

/**
 * The DiLoCo outer update (Douillard et al., "DiLoCo: Distributed low-communication training of
 * language models", 2023, Algorithm 1, with SGD + Nesterov as the outer optimizer):
 * `Δ = θ − x̄`; `m = μ m + Δ`; `θ = θ − lr · (nesterov ? Δ + μ m : m)` (PyTorch's Nesterov
 * convention, as §0.1's `sgd`). The state is float64, so with `lr = 1, μ = 0` the new `θ` is
 * `x̄` exactly.
 *
 * @param state The current global model and momentum; not modified.
 * @param average The exact average `x̄` of the workers' models.
 * @param settings Outer rate, momentum and Nesterov.
 * @returns The new state.
 * @throws {RangeError} When lengths differ.
 * @example One outer step from `θ = 1` to `x̄ = 0.5`
 * ```ts
 * import assert from "node:assert/strict";
 * import { dilocoUpdate } from "./diloco.ts";
 *
 * const state = { global: new Float64Array([1]), momentum: new Float64Array([0]) };
 * const next = dilocoUpdate(state, new Float32Array([0.5]), {
 *   lr: 0.5,
 *   momentum: 0.9,
 *   nesterov: true,
 * });
 * assert.ok(Math.abs(next.momentum[0]! - 0.5) < 1e-12); // m = 0.9 · 0 + 0.5
 * assert.ok(Math.abs(next.global[0]! - 0.525) < 1e-12); // 1 − 0.5 · (0.5 + 0.9 · 0.5)
 * ```
 */
export function dilocoUpdate(
  state: DilocoState,
  average: Float32Array,
  settings: Pick<DilocoNode, "lr" | "momentum" | "nesterov">,
): DilocoState {
  checkSameLength(state.global, average, "the average model");
  const global = Float64Array.from(state.global);
  const momentum = Float64Array.from(state.momentum);
  for (let t = 0; t < average.length; t++) {
    outerStepAt(global, momentum, t, state.global[t]! - average[t]!, settings);
  }
  return { global, momentum };
}

/**
 * DiLoCo's outer step at one coordinate, in place, for a pseudo-gradient value `delta`:
 * `m_t = μ m_t + Δ`; `θ_t −= lr · (nesterov ? Δ + μ m_t : m_t)`. Streaming DiLoCo takes the same
 * step on each fragment's coordinates.
 *
 * @param global The global model `θ`, updated at `t`.
 * @param momentum The outer momentum `m`, updated at `t`.
 * @param t The coordinate.
 * @param delta The pseudo-gradient at `t`.
 * @param settings Outer rate, momentum and Nesterov.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outerStepAt } from "./diloco.ts";
 * const [global, momentum] = [Float64Array.of(1), Float64Array.of(0)];
 * outerStepAt(global, momentum, 0, 0.5, { lr: 0.5, momentum: 0.9, nesterov: true });
 * assert.ok(Math.abs(global[0]! - 0.525) < 1e-12);
 * ```
 */
export function outerStepAt(
  global: Float64Array,
  momentum: Float64Array,
  t: number,
  delta: number,
  settings: Pick<DilocoNode, "lr" | "momentum" | "nesterov">,
): void {
  const { lr, momentum: mu, nesterov } = settings;
  const m = mu * momentum[t]! + delta;
  momentum[t] = m;
  global[t] = global[t]! - lr * (nesterov ? delta + mu * m : m);
}

/**
 * The `diloco({ tau, lr, momentum, nesterov, buffers })` outer algorithm (Douillard et al.
 * 2023). State `θ = x_0`, `m = 0`. After step `k` with `(k + 1) mod tau == 0`:
 * `x̄ = avg_i(base.model())` by one exact all-reduce (phase `"outer"`; for an `sgp` base
 * `model()` is the de-biased `z_i`), then {@linkcode dilocoUpdate}, every worker restarts from
 * `θ` (`base.setModel`, which also resets sgp's weight to 1), then the buffer policy
 * (`"keep"` by default, DiLoCo's choice; `"average"` under `"outer"`). The inner learning
 * rate is never used, so a zero or scheduled inner rate leaves the outer step unchanged.
 *
 * @param node The `diloco` node.
 * @param context The worker's communicator, `x_0` and buffer policy.
 * @returns The worker's outer algorithm; its buffers are `diloco.global` and
 *   `diloco.momentum` (float64).
 */
export function dilocoOuter(node: DilocoNode, context: StepContext): OuterAlgorithm {
  const { comm } = context;
  const state: DilocoState = {
    global: Float64Array.from(context.x0),
    momentum: new Float64Array(context.x0.length),
  };
  return {
    async afterStep(k, _lr, base) {
      if (!endsPeriod(k, node.tau)) return;
      const average = await comm.allReduceMean(base.model(), "outer");
      const next = dilocoUpdate(state, average, node);
      state.global.set(next.global);
      state.momentum.set(next.momentum);
      base.setModel(Float32Array.from(state.global));
      await context.syncBuffers(node.buffers, "outer");
    },
    buffers: () => [
      { name: "diloco.global", data: state.global, momentum: false },
      { name: "diloco.momentum", data: state.momentum, momentum: false },
    ],
    resetMomentum() {},
  };
}
