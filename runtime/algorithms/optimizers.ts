/**
 * Local optimizers (docs/algorithms.md §0.1): the direction `dir_i` each worker computes from
 * its gradient, the model then moving by `x_i −= γ_k · dir_i`, and the buffer policy applied to
 * the step's momentum buffers at synchronisation points.
 *
 * The math is in pure functions, {@linkcode sgdDirection}, {@linkcode adamDirection},
 * {@linkcode adamwDirection} and {@linkcode clipByNorm}, that take the state and return the new
 * state; {@linkcode createOptimizer} wraps them in a {@linkcode LocalOptimizer} that owns its
 * buffers and its step count. Arithmetic runs in float64 and every stored value (buffer or
 * direction) is rounded to float32 once.
 *
 * @module
 */

import type { AdamNode, AdamwNode, BufferPolicy, OptimizerNode, SgdNode } from "../../dsl/plan.ts";
import type { Communicator, Phase } from "../comm/types.ts";
import { scalarBuffer, type StateBuffer, type Stateful } from "../state.ts";
import type { LocalOptimizer } from "./types.ts";
import { checkSameLength } from "./_vector.ts";

/** The SGD hyper-parameters the direction depends on (the learning rate is applied outside). */
export type SgdSettings = Pick<SgdNode, "momentum" | "nesterov" | "weightDecay">;

/** The Adam hyper-parameters the direction depends on (the learning rate is applied outside). */
export type AdamSettings = Pick<
  AdamNode,
  "beta1" | "beta2" | "eps" | "biasCorrection" | "amsgrad" | "weightDecay"
>;

/** The AdamW hyper-parameters the direction depends on (the learning rate is applied outside). */
export type AdamwSettings = Pick<AdamwNode, "beta1" | "beta2" | "eps" | "weightDecay">;

/** Adam's state: first moment `m`, second moment `v`, and AMSGrad's running maximum `v̂`. */
export interface AdamMoments {
  /** First moment `m` (float32). */
  readonly m: Float32Array;
  /** Second moment `v` (float32). */
  readonly v: Float32Array;
  /** `max` of every `v` so far (AMSGrad only, else `null`). */
  readonly vMax: Float32Array | null;
}

/**
 * One SGD direction, PyTorch convention (Sutskever et al. 2013 as implemented in
 * `torch.optim.SGD`), with coupled weight decay:
 * `g = grad + wd · x`; `v = μ v + g`; `dir = nesterov ? g + μ v : v`. With `μ = 0` there is no
 * state and `dir = g`.
 *
 * @param settings Momentum `μ`, Nesterov and weight decay `wd`.
 * @param velocity The momentum buffer `v` (`null` when `μ = 0`); not modified.
 * @param grad The gradient `g_i`.
 * @param x The parameters the gradient was taken at (for weight decay).
 * @returns The direction (`grad` itself when `μ = 0` and `wd = 0`) and the new momentum buffer
 *   (`null` when `μ = 0`).
 * @throws {RangeError} When the vectors' lengths differ, or `μ > 0` without a buffer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sgdDirection } from "./optimizers.ts";
 *
 * const settings = { momentum: 0.5, nesterov: true, weightDecay: 0 };
 * const { direction, velocity } = sgdDirection(
 *   settings,
 *   new Float32Array([2]),
 *   new Float32Array([1]),
 *   new Float32Array([0]),
 * );
 * assert.deepEqual([...velocity!], [2]); // 0.5·2 + 1
 * assert.deepEqual([...direction], [2]); // 1 + 0.5·2
 * ```
 */
export function sgdDirection(
  settings: SgdSettings,
  velocity: Float32Array | null,
  grad: Float32Array,
  x: Float32Array,
): { readonly direction: Float32Array; readonly velocity: Float32Array | null } {
  checkSameLength(x, grad, "gradient");
  const { momentum: mu, nesterov, weightDecay: wd } = settings;
  // Plain SGD's direction is the gradient itself: no copy on the hot path.
  if (mu === 0 && wd === 0) return { direction: grad, velocity: null };
  const direction = new Float32Array(x.length);
  if (mu === 0) {
    for (let t = 0; t < x.length; t++) direction[t] = grad[t]! + wd * x[t]!;
    return { direction, velocity: null };
  }
  if (velocity === null) {
    throw new RangeError(`Cannot compute SGD direction: momentum ${mu} needs a velocity buffer`);
  }
  checkSameLength(x, velocity, "velocity");
  const next = new Float32Array(x.length);
  for (let t = 0; t < x.length; t++) {
    const g = grad[t]! + wd * x[t]!;
    const v = Math.fround(mu * velocity[t]! + g);
    next[t] = v;
    direction[t] = nesterov ? g + mu * v : v;
  }
  return { direction, velocity: next };
}

/**
 * One Adam direction (Kingma & Ba 2015; AMSGrad: Reddi et al. 2018) with coupled weight decay:
 * `g = grad + wd · x`; `m = β1 m + (1−β1) g`; `v = β2 v + (1−β2) g²`;
 * `v̂ = amsgrad ? max(v̂, v) : v`; with bias correction `m̃ = m/(1−β1^{k+1})`,
 * `ṽ = v̂/(1−β2^{k+1})`, else `m̃ = m`, `ṽ = v̂`; `dir = m̃ / (sqrt(ṽ) + eps)`. The moments are
 * stored in float32 and the direction is computed from the stored values.
 *
 * @param settings `β1`, `β2`, `eps`, bias correction, AMSGrad and weight decay.
 * @param moments The current moments; not modified.
 * @param grad The gradient `g_i`.
 * @param x The parameters the gradient was taken at (for weight decay).
 * @param k The optimizer's count of directions before this one, from 0 (bias correction uses
 *   `k + 1`); it restarts at 0 after a buffer reset.
 * @returns The direction and the new moments.
 * @throws {RangeError} When the vectors' lengths differ, or AMSGrad is on without `vMax`.
 * @example First step with bias correction: the direction is `g / (|g| + eps)`
 * ```ts
 * import assert from "node:assert/strict";
 * import { adamDirection } from "./optimizers.ts";
 *
 * const settings = {
 *   beta1: 0.9, beta2: 0.999, eps: 0, biasCorrection: true, amsgrad: false, weightDecay: 0,
 * };
 * const zero = () => new Float32Array(2);
 * const { direction } = adamDirection(
 *   settings,
 *   { m: zero(), v: zero(), vMax: null },
 *   new Float32Array([3, -0.5]),
 *   zero(),
 *   0,
 * );
 * assert.ok(Math.abs(direction[0]! - 1) < 1e-6 && Math.abs(direction[1]! + 1) < 1e-6);
 * ```
 */
export function adamDirection(
  settings: AdamSettings,
  moments: AdamMoments,
  grad: Float32Array,
  x: Float32Array,
  k: number,
): { readonly direction: Float32Array; readonly moments: AdamMoments } {
  return adamStep(settings, moments, grad, x, k, 0);
}

/**
 * One AdamW direction (Loshchilov & Hutter 2019, as `torch.optim.AdamW`): Adam's bias-corrected
 * direction of the gradient, `m = β1 m + (1−β1) g`; `v = β2 v + (1−β2) g²`;
 * `m̃ = m/(1−β1^{k+1})`, `ṽ = v/(1−β2^{k+1})`, plus the decoupled decay:
 * `dir = m̃ / (sqrt(ṽ) + eps) + wd · x`, so the caller's `x −= γ_k · dir` is
 * `x −= γ_k (m̃ / (sqrt(ṽ) + eps) + wd · x)`. The decay never enters `m` or `v`. The moments are
 * stored in float32; the direction is computed in float64 and rounded once. With `wd = 0` it is
 * {@linkcode adamDirection} with bias correction, without AMSGrad and coupled decay, bit for bit.
 *
 * @param settings `β1`, `β2`, `eps` and the decoupled weight decay `wd`.
 * @param moments The current moments (`vMax` is not used); not modified.
 * @param grad The gradient `g_i`.
 * @param x The parameters the gradient was taken at (the decay is `wd · x`).
 * @param k The optimizer's count of directions before this one, from 0; it restarts at 0 after
 *   a buffer reset.
 * @returns The direction and the new moments (`vMax` is `null`).
 * @throws {RangeError} When the vectors' lengths differ.
 * @example With a zero gradient the direction is the decay alone and the moments stay 0
 * ```ts
 * import assert from "node:assert/strict";
 * import { adamwDirection } from "./optimizers.ts";
 *
 * const zero = () => new Float32Array(2);
 * const { direction, moments } = adamwDirection(
 *   { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.5 },
 *   { m: zero(), v: zero(), vMax: null },
 *   zero(),
 *   Float32Array.of(2, -4),
 *   0,
 * );
 * assert.deepEqual([...direction], [1, -2]);
 * assert.deepEqual([...moments.m, ...moments.v], [0, 0, 0, 0]);
 * ```
 */
export function adamwDirection(
  settings: AdamwSettings,
  moments: AdamMoments,
  grad: Float32Array,
  x: Float32Array,
  k: number,
): { readonly direction: Float32Array; readonly moments: AdamMoments } {
  const { beta1, beta2, eps, weightDecay } = settings;
  const adam = { beta1, beta2, eps, biasCorrection: true, amsgrad: false, weightDecay: 0 };
  return adamStep(adam, { ...moments, vMax: null }, grad, x, k, weightDecay);
}

/**
 * Adam's step with coupled decay `settings.weightDecay` (into the gradient) and decoupled decay
 * `decoupled` (beside the direction): the one body of {@linkcode adamDirection} and
 * {@linkcode adamwDirection}.
 */
function adamStep(
  settings: AdamSettings,
  moments: AdamMoments,
  grad: Float32Array,
  x: Float32Array,
  k: number,
  decoupled: number,
): { readonly direction: Float32Array; readonly moments: AdamMoments } {
  checkSameLength(x, grad, "gradient");
  checkSameLength(x, moments.m, "first moment");
  checkSameLength(x, moments.v, "second moment");
  const { beta1, beta2, eps, biasCorrection, amsgrad, weightDecay: wd } = settings;
  if (amsgrad && moments.vMax === null) {
    throw new RangeError("Cannot compute Adam direction: amsgrad needs a running maximum buffer");
  }
  if (moments.vMax !== null) checkSameLength(x, moments.vMax, "running maximum");
  const c1 = biasCorrection ? 1 - beta1 ** (k + 1) : 1;
  const c2 = biasCorrection ? 1 - beta2 ** (k + 1) : 1;
  const m = new Float32Array(x.length);
  const v = new Float32Array(x.length);
  const vMax = amsgrad ? new Float32Array(x.length) : null;
  const direction = new Float32Array(x.length);
  for (let t = 0; t < x.length; t++) {
    const g = grad[t]! + wd * x[t]!;
    m[t] = beta1 * moments.m[t]! + (1 - beta1) * g;
    v[t] = beta2 * moments.v[t]! + (1 - beta2) * g * g;
    let vHat = v[t]!;
    if (vMax !== null) {
      vHat = Math.max(moments.vMax![t]!, vHat);
      vMax[t] = vHat;
    }
    const step = (m[t]! / c1) / (Math.sqrt(vHat / c2) + eps);
    // Without decoupled decay nothing is added, not even 0 (which would turn −0 into +0).
    direction[t] = decoupled === 0 ? step : step + decoupled * x[t]!;
  }
  return { direction, moments: { m, v, vMax } };
}

/**
 * Gradient clipping by the global norm (docs/algorithms.md §0.1; `clip_grad_norm_` in PyTorch,
 * without its `1e-6`): `g · min(1, c / ‖g‖₂)`, the norm taken in float64 over the whole flat
 * vector, each scaled value `g_t · c / ‖g‖₂` rounded to float32 once.
 *
 * @param grad The gradient; not modified.
 * @param c The largest norm let through, finite and greater than 0.
 * @returns `grad` itself when `‖g‖₂ ≤ c` (or the norm is not a number), else a scaled copy.
 * @throws {RangeError} When `c` is not a finite number greater than 0.
 * @example A gradient of norm 10 clipped to norm 1
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipByNorm } from "./optimizers.ts";
 *
 * assert.deepEqual([...clipByNorm(Float32Array.of(6, 8), 1)], [Math.fround(0.6), Math.fround(0.8)]);
 * const small = Float32Array.of(0.3, 0.4);
 * assert.equal(clipByNorm(small, 1), small);
 * ```
 */
export function clipByNorm(grad: Float32Array, c: number): Float32Array {
  if (!(Number.isFinite(c) && c > 0)) {
    throw new RangeError(`Cannot clip the gradient: clipNorm "${c}" is not a finite number > 0`);
  }
  let sum = 0;
  for (let t = 0; t < grad.length; t++) sum += grad[t]! * grad[t]!;
  const norm = Math.sqrt(sum);
  if (!(norm > c)) return grad;
  const clipped = new Float32Array(grad.length);
  for (let t = 0; t < grad.length; t++) clipped[t] = grad[t]! * c / norm;
  return clipped;
}

/**
 * Builds a worker's local optimizer from its plan node (docs/algorithms.md §0.1): `sgd` with
 * momentum, Nesterov and weight decay, `adam` with optional bias correction and AMSGrad, or
 * `adamw`; any of them with gradient clipping. The learning rate is not used here; the caller
 * moves the model by `x −= γ_k · dir`.
 *
 * Buffers, live so a buffer policy can overwrite them in place: SGD `sgd.velocity` when
 * `μ > 0`; Adam `adam.m`, `adam.v`, `adam.vMax` with AMSGrad (momentum buffers), and
 * `adam.count`, the directions computed since the start or the last reset, which bias
 * correction uses in place of the step (so a reset restarts it, as PyTorch's and optax's Adam
 * count their own updates); AdamW `adamw.m`, `adamw.v` and `adamw.count`, alike.
 *
 * Coupled weight decay (`sgd`, `adam`) is added to the gradient once: inside `direction`, or,
 * for a gradient that goes through a compressor first, by `decay` before it (the compressor's
 * momentum, error feedback and codec then see `g + wd · x`, docs/algorithms.md §0) and not again
 * by `direction(…, true)`. AdamW's decay is decoupled: `decay` leaves the gradient as it is (so
 * the decay never reaches a compressor) and `direction` always adds `wd · x` to Adam's direction,
 * whatever `decayed` says.
 *
 * Clipping (`clipNorm: c`): `direction` scales the gradient it is given, its coupled decay
 * included (the `g_i` of docs/algorithms.md §0), by `min(1, c / ‖g‖₂)` before the optimizer's
 * math ({@linkcode clipByNorm}); the decoupled decay of AdamW is not clipped. So under
 * `allReduce` the mean gradient is clipped (after the all-reduce, or after the compressed mean is
 * decoded), and under every other base each worker clips its own. Below the threshold the
 * direction is bit for bit the one without clipping.
 *
 * @param node The optimizer node.
 * @param d The number of parameters.
 * @returns The optimizer, with zeroed buffers.
 * @throws {RangeError} When `d` is not a positive integer (and, from `direction`, when a vector
 *   does not have `d` values).
 * @example SGD with momentum 0.5: the second direction is `g + 0.5 g`
 * ```ts
 * import assert from "node:assert/strict";
 * import { createOptimizer } from "./optimizers.ts";
 * import { sgd } from "../../dsl/optimizers/mod.ts";
 *
 * const optimizer = createOptimizer(sgd({ lr: 0.1, momentum: 0.5 }), 2);
 * const g = new Float32Array([1, 2]);
 * optimizer.direction(g, new Float32Array(2));
 * assert.deepEqual([...optimizer.direction(g, new Float32Array(2))], [1.5, 3]);
 * assert.deepEqual(optimizer.buffers().map((buffer) => buffer.name), ["sgd.velocity"]);
 * ```
 * @example Clipping: a gradient of norm 5 clipped to 1 before plain SGD
 * ```ts
 * import assert from "node:assert/strict";
 * import { createOptimizer } from "./optimizers.ts";
 * import { sgd } from "../../dsl/optimizers/mod.ts";
 *
 * const optimizer = createOptimizer(sgd({ lr: 0.1, clipNorm: 1 }), 2);
 * const direction = optimizer.direction(Float32Array.of(3, 4), new Float32Array(2));
 * assert.deepEqual([...direction], [Math.fround(0.6), Math.fround(0.8)]);
 * ```
 */
export function createOptimizer(node: OptimizerNode, d: number): LocalOptimizer {
  if (!Number.isInteger(d) || d < 1) {
    throw new RangeError(
      `Cannot create optimizer: parameter count "${d}" is not a positive integer`,
    );
  }
  // AdamW's decay is decoupled: it is never added to the gradient.
  const coupled = node.kind === "adamw" ? 0 : node.weightDecay;
  const core = node.kind === "sgd"
    ? sgdCore(node, d)
    : node.kind === "adam"
    ? adamCore(node, d)
    : adamwCore(node, d);
  const { clipNorm } = node;
  return {
    direction(grad, x, decayed = false) {
      const wd = decayed ? 0 : coupled;
      if (clipNorm === undefined) return core.step(grad, x, wd);
      checkSameLength(x, grad, "gradient");
      const seen = wd === 0 ? grad : withDecay(grad, wd, x);
      const clipped = clipByNorm(seen, clipNorm);
      // Below the threshold, the very path without clipping (the decay added in float64).
      return clipped === seen ? core.step(grad, x, wd) : core.step(clipped, x, 0);
    },
    buffers: core.buffers,
    resetMomentum: core.resetMomentum,
    decay(grad, x) {
      checkSameLength(x, grad, "gradient");
      if (coupled === 0) return grad;
      for (let t = 0; t < x.length; t++) grad[t] = grad[t]! + coupled * x[t]!;
      return grad;
    },
  };
}

/** `fround(g + wd · x)`, a fresh vector. */
function withDecay(grad: Float32Array, wd: number, x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let t = 0; t < x.length; t++) out[t] = grad[t]! + wd * x[t]!;
  return out;
}

/** One optimizer's math and state, without clipping. */
interface OptimizerCore extends Stateful {
  /**
   * The direction of `grad` at `x`, `wd · x` added to the gradient first (the coupled decay, 0
   * when the caller added it or clipped a gradient that carried it); updates the state.
   */
  step(grad: Float32Array, x: Float32Array, wd: number): Float32Array;
}

/** SGD's velocity (none without momentum) around {@linkcode sgdDirection}. */
function sgdCore(node: SgdNode, d: number): OptimizerCore {
  const velocity = node.momentum === 0 ? null : new Float32Array(d);
  const buffers: StateBuffer[] = velocity === null
    ? []
    : [{ name: "sgd.velocity", data: velocity, momentum: true }];
  return {
    step(grad, x, wd) {
      const result = sgdDirection({ ...node, weightDecay: wd }, velocity, grad, x);
      if (velocity !== null) velocity.set(result.velocity!);
      return result.direction;
    },
    buffers: () => buffers,
    resetMomentum() {
      velocity?.fill(0);
    },
  };
}

/** Adam's moments and count around {@linkcode adamDirection}. */
function adamCore(node: AdamNode, d: number): OptimizerCore {
  const moments = adamMoments("adam", d, node.amsgrad);
  return {
    ...moments.state,
    step(grad, x, wd) {
      const count = moments.count.data;
      const result = adamDirection({ ...node, weightDecay: wd }, moments, grad, x, count[0]!);
      moments.update(result.moments);
      return result.direction;
    },
  };
}

/** AdamW's moments and count around {@linkcode adamwDirection} (no coupled decay to add). */
function adamwCore(node: AdamwNode, d: number): OptimizerCore {
  const moments = adamMoments("adamw", d, false);
  return {
    ...moments.state,
    step(grad, x) {
      const result = adamwDirection(node, moments, grad, x, moments.count.data[0]!);
      moments.update(result.moments);
      return result.direction;
    },
  };
}

/**
 * Adam's and AdamW's state: `m`, `v` and with AMSGrad `v̂` (momentum buffers, zeroed and
 * averaged by buffer policies), and the count of directions computed, which bias correction
 * reads and a reset restarts.
 */
function adamMoments(owner: string, d: number, amsgrad: boolean) {
  const moments: AdamMoments = {
    m: new Float32Array(d),
    v: new Float32Array(d),
    vMax: amsgrad ? new Float32Array(d) : null,
  };
  const count = scalarBuffer(`${owner}.count`, 0);
  const buffers: StateBuffer[] = [
    { name: `${owner}.m`, data: moments.m, momentum: true },
    { name: `${owner}.v`, data: moments.v, momentum: true },
    ...(moments.vMax === null
      ? []
      : [{ name: `${owner}.vMax`, data: moments.vMax, momentum: true }]),
    count,
  ];
  const state: Stateful = {
    buffers: () => buffers,
    resetMomentum() {
      moments.m.fill(0);
      moments.v.fill(0);
      moments.vMax?.fill(0);
      count.data[0] = 0;
    },
  };
  return {
    ...moments,
    count,
    state,
    /** Stores the new moments and counts one more direction. */
    update(next: AdamMoments) {
      moments.m.set(next.m);
      moments.v.set(next.v);
      if (moments.vMax !== null) moments.vMax.set(next.vMax!);
      count.data[0]! += 1;
    },
  };
}

/**
 * Applies a buffer policy at a synchronisation point (local-SGD averaging, SlowMo's outer step)
 * to every momentum buffer of the given parts of the step: `"keep"` leaves them, `"reset"`
 * zeroes them and restarts their counts (`resetMomentum`), `"average"` replaces each by its
 * exact mean over workers (one `allReduceMean` per buffer, in the parts' `buffers()` order,
 * counted under `phase`). Every rank must call it at the same point with the same policy, like
 * any collective.
 *
 * @param policy `"keep"`, `"reset"` or `"average"`.
 * @param parts The optimizer and the base, whose momentum buffers are overwritten in place.
 * @param comm The worker's communicator (used by `"average"` only).
 * @param phase The traffic phase of the averaging.
 * @returns Resolves once the policy is applied.
 * @throws {PeerError} From the communicator, when `"average"` loses a peer.
 * @example Resetting needs no communication
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyBufferPolicy, createOptimizer } from "./optimizers.ts";
 * import { sgd } from "../../dsl/optimizers/mod.ts";
 * import type { Communicator } from "../comm/types.ts";
 *
 * const optimizer = createOptimizer(sgd({ lr: 0.1, momentum: 0.9 }), 1);
 * optimizer.direction(new Float32Array([1]), new Float32Array(1));
 * await applyBufferPolicy("reset", [optimizer], {} as Communicator, "base");
 * assert.deepEqual([...optimizer.buffers()[0]!.data], [0]);
 * ```
 */
export async function applyBufferPolicy(
  policy: BufferPolicy,
  parts: readonly Stateful[],
  comm: Communicator,
  phase: Phase,
): Promise<void> {
  switch (policy) {
    case "keep":
      return;
    case "reset":
      for (const part of parts) part.resetMomentum();
      return;
    case "average":
      for (const part of parts) {
        for (const buffer of part.buffers()) {
          if (!buffer.momentum) continue;
          const data = buffer.data;
          // Momentum buffers are float32, as every buffer averaged by the ring.
          if (!(data instanceof Float32Array)) {
            throw new TypeError(`Cannot average buffer "${buffer.name}": it is not float32`);
          }
          await comm.allReduceMeanInPlace(data, phase);
        }
      }
      return;
  }
}
