/**
 * Local optimizers (docs/algorithms.md §0.1): the direction each worker computes from its gradient.
 *
 * @module
 */

import { deepFreeze } from "./_freeze.ts";
import type { AdamNode, SgdNode } from "./plan.ts";
import { type LearningRate, toSchedule } from "./schedules.ts";

/** Options of {@linkcode sgd}. */
export interface SgdOptions {
  /** Learning rate: a number or a schedule. */
  readonly lr: LearningRate;
  /** Heavy-ball momentum μ (default 0). */
  readonly momentum?: number;
  /** Nesterov momentum (default false; needs momentum > 0). */
  readonly nesterov?: boolean;
  /** Coupled L2 weight decay added to the gradient (default 0). */
  readonly weightDecay?: number;
}

/** The momentum type an `sgd` call records, so the builder can reject momentum with dmSgd. */
export type MomentumOf<O extends SgdOptions> = O extends
  { readonly momentum: infer M extends number } ? M
  : 0;

/**
 * Stochastic gradient descent, PyTorch convention: `v = μ v + g`,
 * `dir = nesterov ? g + μ v : v`, `x −= γ_k · dir`.
 *
 * @param options Learning rate, momentum, Nesterov and weight decay.
 * @returns An `sgd` optimizer node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sgd } from "./optimizers.ts";
 * const opt = sgd({ lr: 0.1, momentum: 0.9 });
 * assert.ok(opt.momentum === 0.9 && opt.lr.kind === "constant");
 * ```
 */
export function sgd<const O extends SgdOptions>(options: O): SgdNode<MomentumOf<O>> {
  return deepFreeze({
    kind: "sgd",
    lr: toSchedule(options.lr),
    momentum: (options.momentum ?? 0) as MomentumOf<O>,
    nesterov: options.nesterov ?? false,
    weightDecay: options.weightDecay ?? 0,
  });
}

/** Options of {@linkcode adam}. */
export interface AdamOptions {
  /** Learning rate: a number or a schedule. */
  readonly lr: LearningRate;
  /** First-moment decay (default 0.9). */
  readonly beta1?: number;
  /** Second-moment decay (default 0.999). */
  readonly beta2?: number;
  /** Denominator offset (default 1e-8). */
  readonly eps?: number;
  /** Divide the moments by `1 − β^{k+1}` (default true). */
  readonly biasCorrection?: boolean;
  /** Use the running maximum of the second moment (default false). */
  readonly amsgrad?: boolean;
  /** Coupled L2 weight decay (default 0). */
  readonly weightDecay?: number;
}

/**
 * Adam: `m = β1 m + (1−β1) g`, `v = β2 v + (1−β2) g²`, optional AMSGrad and bias correction,
 * `dir = m̃ / (sqrt(ṽ) + eps)`.
 *
 * @param options Learning rate and moment parameters.
 * @returns An `adam` optimizer node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adam } from "./optimizers.ts";
 * assert.ok(adam({ lr: 1e-3 }).beta2 === 0.999);
 * ```
 */
export function adam(options: AdamOptions): AdamNode {
  return deepFreeze({
    kind: "adam",
    lr: toSchedule(options.lr),
    beta1: options.beta1 ?? 0.9,
    beta2: options.beta2 ?? 0.999,
    eps: options.eps ?? 1e-8,
    biasCorrection: options.biasCorrection ?? true,
    amsgrad: options.amsgrad ?? false,
    weightDecay: options.weightDecay ?? 0,
  });
}
