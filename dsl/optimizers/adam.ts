/**
 * `adam()`: Adam with optional AMSGrad and bias correction.
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { above, clipNorm, momentum, nonNegative } from "../fields.ts";
import { buildNode, type OptimizerDefinition, type OptionNames } from "../kind.ts";
import { scheduleSchema } from "../_schedule_schema.ts";
import { type LearningRate, type ScheduleNode, toSchedule } from "../schedules.ts";

/** Adam (docs/algorithms.md §0.1). */
export interface AdamNode {
  /** Node kind, named after the DSL factory `adam()`. */
  readonly kind: "adam";
  /** Learning-rate schedule `γ_k`. */
  readonly lr: ScheduleNode;
  /** First-moment decay `β1`, in `[0, 1)`. */
  readonly beta1: number;
  /** Second-moment decay `β2`, in `[0, 1)`. */
  readonly beta2: number;
  /** Offset added to `sqrt(v)` in the denominator (> 0), for numerical stability. */
  readonly eps: number;
  /** Divide the moments by `1 − β^{k+1}`. */
  readonly biasCorrection: boolean;
  /** Use the running maximum of the second moment (AMSGrad). */
  readonly amsgrad: boolean;
  /** Coupled L2 weight decay: `weightDecay · x` is added to the gradient. */
  readonly weightDecay: number;
  /** Gradient clipping: the gradient is scaled by `min(1, clipNorm / ‖g‖₂)`; absent for none. */
  readonly clipNorm?: number;
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
  /** Clip the gradient to this L2 norm (default: no clipping; docs/algorithms.md §0.1). */
  readonly clipNorm?: number;
}

const OPTIONS: OptionNames<AdamOptions> = {
  lr: true,
  beta1: true,
  beta2: true,
  eps: true,
  biasCorrection: true,
  amsgrad: true,
  weightDecay: true,
  clipNorm: true,
};

/**
 * Adam: `m = β1 m + (1−β1) g`, `v = β2 v + (1−β2) g²`, optional AMSGrad and bias correction,
 * `dir = m̃ / (sqrt(ṽ) + eps)`. Weight decay is coupled (added to the gradient, so it enters the
 * moments); `adamw()` decouples it. With `clipNorm: c` the gradient is first scaled by
 * `min(1, c / ‖g‖₂)`.
 *
 * @param options Learning rate and moment parameters.
 * @returns An `adam` optimizer node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adam } from "./adam.ts";
 * assert.ok(adam({ lr: 1e-3 }).beta2 === 0.999);
 * ```
 */
export function adam(options: AdamOptions): AdamNode {
  return buildNode(
    {
      kind: "adam",
      lr: toSchedule(options.lr),
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.999,
      eps: options.eps ?? 1e-8,
      biasCorrection: options.biasCorrection ?? true,
      amsgrad: options.amsgrad ?? false,
      weightDecay: options.weightDecay ?? 0,
      ...(options.clipNorm === undefined ? {} : { clipNorm: options.clipNorm }),
    },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `adam`. */
export const adamKind: OptimizerDefinition<AdamNode, "always"> = {
  schema: v.strictObject({
    kind: v.literal("adam"),
    lr: scheduleSchema,
    beta1: momentum,
    beta2: momentum,
    eps: above(0),
    biasCorrection: v.boolean(),
    amsgrad: v.boolean(),
    weightDecay: nonNegative,
    clipNorm,
  }),
  form: { make: adam, required: ["lr"] },
  momentum: "always",
};
