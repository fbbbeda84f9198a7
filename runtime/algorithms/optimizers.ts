/**
 * Local optimizers (docs/algorithms.md §0.1): the direction `dir_i` each worker computes from
 * its gradient, the model then moving by `x_i −= γ_k · dir_i`, and the buffer policy applied to
 * the step's momentum buffers at synchronisation points.
 *
 * The math is in two pure functions, {@linkcode sgdDirection} and {@linkcode adamDirection},
 * that take the state and return the new state; {@linkcode createOptimizer} wraps them in a
 * {@linkcode LocalOptimizer} that owns its buffers and its step count. Arithmetic runs in
 * float64 and every stored value (buffer or direction) is rounded to float32 once.
 *
 * @module
 */

import type { AdamNode, BufferPolicy, OptimizerNode, SgdNode } from "../../dsl/plan.ts";
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
    direction[t] = (m[t]! / c1) / (Math.sqrt(vHat / c2) + eps);
  }
  return { direction, moments: { m, v, vMax } };
}

/**
 * Builds a worker's local optimizer from its plan node (docs/algorithms.md §0.1): `sgd` with
 * momentum, Nesterov and weight decay, or `adam` with optional bias correction and AMSGrad. The
 * learning rate is not used here; the caller moves the model by `x −= γ_k · dir`.
 *
 * Buffers, live so a buffer policy can overwrite them in place: SGD `sgd.velocity` when
 * `μ > 0`; Adam `adam.m`, `adam.v`, `adam.vMax` with AMSGrad (momentum buffers), and
 * `adam.count`, the directions computed since the start or the last reset, which bias
 * correction uses in place of the step (so a reset restarts it, as PyTorch's and optax's Adam
 * count their own updates).
 *
 * Weight decay is added once: inside `direction`, or, for a gradient that goes through a
 * compressor first, by `decay` before it (the compressor's momentum, error feedback and codec
 * then see `g + wd · x`, docs/algorithms.md §0) and not again by `direction(…, true)`.
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
 */
export function createOptimizer(node: OptimizerNode, d: number): LocalOptimizer {
  if (!Number.isInteger(d) || d < 1) {
    throw new RangeError(
      `Cannot create optimizer: parameter count "${d}" is not a positive integer`,
    );
  }
  const decay = (grad: Float32Array, x: Float32Array) => {
    checkSameLength(x, grad, "gradient");
    const wd = node.weightDecay;
    if (wd === 0) return grad;
    for (let t = 0; t < x.length; t++) grad[t] = grad[t]! + wd * x[t]!;
    return grad;
  };
  if (node.kind === "sgd") {
    const velocity = node.momentum === 0 ? null : new Float32Array(d);
    const buffers: StateBuffer[] = velocity === null
      ? []
      : [{ name: "sgd.velocity", data: velocity, momentum: true }];
    return {
      direction(grad, x, decayed = false) {
        const settings = decayed ? { ...node, weightDecay: 0 } : node;
        const result = sgdDirection(settings, velocity, grad, x);
        if (velocity !== null) velocity.set(result.velocity!);
        return result.direction;
      },
      buffers: () => buffers,
      resetMomentum() {
        velocity?.fill(0);
      },
      decay,
    };
  }
  const moments: AdamMoments = {
    m: new Float32Array(d),
    v: new Float32Array(d),
    vMax: node.amsgrad ? new Float32Array(d) : null,
  };
  const count = scalarBuffer("adam.count", 0);
  const buffers: StateBuffer[] = [
    { name: "adam.m", data: moments.m, momentum: true },
    { name: "adam.v", data: moments.v, momentum: true },
    ...(moments.vMax === null ? [] : [{ name: "adam.vMax", data: moments.vMax, momentum: true }]),
    count,
  ];
  return {
    direction(grad, x, decayed = false) {
      const settings = decayed ? { ...node, weightDecay: 0 } : node;
      const result = adamDirection(settings, moments, grad, x, count.data[0]!);
      moments.m.set(result.moments.m);
      moments.v.set(result.moments.v);
      if (moments.vMax !== null) moments.vMax.set(result.moments.vMax!);
      count.data[0]! += 1;
      return result.direction;
    },
    buffers: () => buffers,
    resetMomentum() {
      moments.m.fill(0);
      moments.v.fill(0);
      moments.vMax?.fill(0);
      count.data[0] = 0;
    },
    decay,
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
