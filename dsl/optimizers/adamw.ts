/**
 * `adamw()`: Adam with decoupled weight decay (Loshchilov & Hutter).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { above, clipNorm, momentum, nonNegative } from "../fields.ts";
import { buildNode, type OptimizerDefinition, type OptionNames } from "../kind.ts";
import { scheduleSchema } from "../_schedule_schema.ts";
import { type LearningRate, type ScheduleNode, toSchedule } from "../schedules.ts";

/** AdamW (docs/algorithms.md §0.1): bias-corrected Adam plus decoupled weight decay. */
export interface AdamwNode {
  /** Node kind, named after the DSL factory `adamw()`. */
  readonly kind: "adamw";
  /** Learning-rate schedule `γ_k`; it scales the decay too. */
  readonly lr: ScheduleNode;
  /** First-moment decay `β1`, in `[0, 1)`. */
  readonly beta1: number;
  /** Second-moment decay `β2`, in `[0, 1)`. */
  readonly beta2: number;
  /** Offset added to `sqrt(ṽ)` in the denominator (> 0), for numerical stability. */
  readonly eps: number;
  /**
   * Decoupled weight decay `wd`: the model moves by `x −= γ_k (dir + wd · x)`; the decay never
   * enters the moments, the gradient clipping or a compressor.
   */
  readonly weightDecay: number;
  /** Gradient clipping: the gradient is scaled by `min(1, clipNorm / ‖g‖₂)`; absent for none. */
  readonly clipNorm?: number;
}

/** Options of {@linkcode adamw}. */
export interface AdamwOptions {
  /** Learning rate: a number or a schedule. */
  readonly lr: LearningRate;
  /** First-moment decay (default 0.9). */
  readonly beta1?: number;
  /** Second-moment decay (default 0.95). */
  readonly beta2?: number;
  /** Denominator offset (default 1e-8). */
  readonly eps?: number;
  /** Decoupled weight decay (default 0.1). */
  readonly weightDecay?: number;
  /** Clip the gradient to this L2 norm (default: no clipping; docs/algorithms.md §0.1). */
  readonly clipNorm?: number;
}

const OPTIONS: OptionNames<AdamwOptions> = {
  lr: true,
  beta1: true,
  beta2: true,
  eps: true,
  weightDecay: true,
  clipNorm: true,
};

/**
 * AdamW (Loshchilov & Hutter, "Decoupled weight decay regularization", ICLR 2019; PyTorch's
 * `torch.optim.AdamW`): Adam's bias-corrected direction
 * `dir = m̃ / (sqrt(ṽ) + eps)` from `m = β1 m + (1−β1) g`, `v = β2 v + (1−β2) g²`, and the
 * decay applied to the model beside it, `x −= γ_k (dir + wd · x)`, so it never enters `m`, `v`
 * or a compressor. The defaults (`β2 = 0.95`, `wd = 0.1`) are those of language-model training
 * (and of DiLoCo's inner optimizer). With `weightDecay: 0` it is `adam` with the same betas.
 *
 * @param options Learning rate, moment parameters, decoupled decay and gradient clipping.
 * @returns An `adamw` optimizer node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adamw } from "./adamw.ts";
 * const opt = adamw({ lr: 3e-4 });
 * assert.ok(opt.beta2 === 0.95 && opt.weightDecay === 0.1 && opt.clipNorm === undefined);
 * ```
 */
export function adamw(options: AdamwOptions): AdamwNode {
  return buildNode(
    {
      kind: "adamw",
      lr: toSchedule(options.lr),
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.95,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0.1,
      ...(options.clipNorm === undefined ? {} : { clipNorm: options.clipNorm }),
    },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `adamw`. */
export const adamwKind: OptimizerDefinition<AdamwNode, "always"> = {
  schema: v.strictObject({
    kind: v.literal("adamw"),
    lr: scheduleSchema,
    beta1: momentum,
    beta2: momentum,
    eps: above(0),
    weightDecay: nonNegative,
    clipNorm,
  }),
  form: { make: adamw, required: ["lr"] },
  momentum: "always",
};
