/**
 * `slowMo({ tau, beta, alpha, buffers })`: slow momentum over any base (docs/algorithms.md §2.1).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { above, type BufferPolicy, buffers, integer, momentum } from "../fields.ts";
import { buildNode, type OptionNames, type OuterDefinition } from "../kind.ts";
import { ringAllReduceBytes } from "../wire_bytes.ts";

/** SlowMo: slow momentum applied every `tau` steps over any base. */
export interface SlowMoNode {
  /** Node kind, named after the DSL factory `slowMo()`. */
  readonly kind: "slowMo";
  /** Steps between slow updates. */
  readonly tau: number;
  /** Slow momentum `β`, in `[0, 1)`. */
  readonly beta: number;
  /** Slow learning rate `α` (> 0); the slow step is `α γ_k u`. */
  readonly alpha: number;
  /** What happens to optimizer buffers at each slow update. */
  readonly buffers: BufferPolicy;
}

/** Options of {@linkcode slowMo}. */
export interface SlowMoOptions {
  /** Steps between slow updates. */
  readonly tau: number;
  /** Slow momentum β (default 0.5). */
  readonly beta?: number;
  /** Slow learning rate α (default 1). */
  readonly alpha?: number;
  /** Optimizer buffers at each slow update (default `"keep"`). */
  readonly buffers?: BufferPolicy;
}

const OPTIONS: OptionNames<SlowMoOptions> = { tau: true, beta: true, alpha: true, buffers: true };

/**
 * SlowMo (Wang et al. 2020): every `tau` steps, `x̄ = avg_i(x_i)`,
 * `u = β u + (x_prev − x̄)/γ_k`, `x_prev −= α γ_k u`, and every worker restarts from `x_prev`.
 *
 * @param options Period, slow momentum β (default 0.5), slow rate α (default 1) and buffer
 *   policy (default `"keep"`).
 * @returns A `slowMo` outer node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { slowMo } from "./slow_mo.ts";
 * assert.ok(slowMo({ beta: 0.7, tau: 12 }).alpha === 1);
 * ```
 */
export function slowMo(options: SlowMoOptions): SlowMoNode {
  return buildNode(
    {
      kind: "slowMo",
      tau: options.tau,
      beta: options.beta ?? 0.5,
      alpha: options.alpha ?? 1,
      buffers: options.buffers ?? "keep",
    },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `slowMo`. */
export const slowMoKind: OuterDefinition<SlowMoNode> = {
  schema: v.strictObject({
    kind: v.literal("slowMo"),
    tau: integer(1),
    beta: momentum,
    alpha: above(0),
    buffers,
  }),
  form: { make: slowMo, required: ["tau"] },
  dividesByLr: () => "slowMo",
  // One all-reduce of the model per period, the exact average.
  traffic: (node, d, n) => ringAllReduceBytes(d, n) / node.tau,
};
