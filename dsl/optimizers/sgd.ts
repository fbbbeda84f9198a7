/**
 * `sgd()`: stochastic gradient descent, PyTorch convention.
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { clipNorm, momentum, nonNegative } from "../fields.ts";
import { buildNode, type OptimizerDefinition, type OptionNames } from "../kind.ts";
import { scheduleSchema } from "../_schedule_schema.ts";
import { type LearningRate, type ScheduleNode, toSchedule } from "../schedules.ts";

/** SGD with optional (PyTorch-convention) momentum and coupled weight decay. */
export interface SgdNode<M extends number = number> {
  /** Node kind, named after the DSL factory `sgd()`. */
  readonly kind: "sgd";
  /** Learning-rate schedule `γ_k`. */
  readonly lr: ScheduleNode;
  /**
   * Heavy-ball momentum `μ` in `[0, 1)`, 0 for none; typed as its literal so the builder can reject
   * momentum with bases that own theirs.
   */
  readonly momentum: M;
  /** Nesterov momentum, `dir = g + μ v`; needs `momentum > 0`. */
  readonly nesterov: boolean;
  /** Coupled L2 weight decay: `weightDecay · x` is added to the gradient. */
  readonly weightDecay: number;
  /** Gradient clipping: the gradient is scaled by `min(1, clipNorm / ‖g‖₂)`; absent for none. */
  readonly clipNorm?: number;
}

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
  /** Clip the gradient to this L2 norm (default: no clipping; docs/algorithms.md §0.1). */
  readonly clipNorm?: number;
}

const OPTIONS: OptionNames<SgdOptions> = {
  lr: true,
  momentum: true,
  nesterov: true,
  weightDecay: true,
  clipNorm: true,
};

/**
 * Stochastic gradient descent, PyTorch convention: `v = μ v + g`,
 * `dir = nesterov ? g + μ v : v`, `x −= γ_k · dir`. With `clipNorm: c` the gradient `g` (its
 * coupled decay included) is first scaled by `min(1, c / ‖g‖₂)`.
 *
 * The node's type records the momentum as its literal (`SgdNode<0.9>`, `SgdNode<0>` when left
 * out), so the builder rejects momentum beside a base that carries its own.
 *
 * @param options Learning rate, momentum, Nesterov, weight decay and gradient clipping.
 * @returns An `sgd` optimizer node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sgd } from "./sgd.ts";
 * const opt = sgd({ lr: 0.1, momentum: 0.9 });
 * assert.ok(opt.momentum === 0.9 && opt.lr.kind === "constant");
 * ```
 */
export function sgd<const M extends number = 0>(
  options: SgdOptions & { readonly momentum?: M },
): SgdNode<M> {
  return buildNode(
    {
      kind: "sgd",
      lr: toSchedule(options.lr),
      momentum: (options.momentum ?? 0) as M,
      nesterov: options.nesterov ?? false,
      weightDecay: options.weightDecay ?? 0,
      ...(options.clipNorm === undefined ? {} : { clipNorm: options.clipNorm }),
    },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `sgd`. */
export const sgdKind: OptimizerDefinition<SgdNode, "field"> = {
  schema: v.strictObject({
    kind: v.literal("sgd"),
    lr: scheduleSchema,
    momentum,
    nesterov: v.boolean(),
    weightDecay: nonNegative,
    clipNorm,
  }),
  form: { make: sgd, required: ["lr"] },
  momentum: "field",
  check: (node) =>
    node.nesterov && node.momentum === 0
      ? [{
        path: "nesterov",
        message: "nesterov needs momentum greater than 0",
        expected: "false",
        received: true,
      }]
      : [],
};
