/**
 * `diloco({ tau, lr, momentum, nesterov, buffers })`: DiLoCo's outer Nesterov step on the
 * averaged pseudo-gradient (docs/algorithms.md §2.3).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { above, type BufferPolicy, buffers, integer, momentum } from "../fields.ts";
import { buildNode, type OptionNames, type OuterDefinition } from "../kind.ts";
import { ringAllReduceBytes } from "../wire_bytes.ts";

/** DiLoCo: an outer optimizer step on the pseudo-gradient `θ − x̄` every `tau` steps. */
export interface DilocoNode {
  /** Node kind, named after the DSL factory `diloco()`. */
  readonly kind: "diloco";
  /** Inner steps between outer steps. */
  readonly tau: number;
  /** Outer learning rate (> 0), applied to the pseudo-gradient without the inner rate. */
  readonly lr: number;
  /** Outer momentum `μ`, in `[0, 1)`. */
  readonly momentum: number;
  /** Nesterov momentum on the outer step (DiLoCo's choice) instead of heavy ball. */
  readonly nesterov: boolean;
  /** What happens to optimizer buffers at each outer step. */
  readonly buffers: BufferPolicy;
}

/** Options of {@linkcode diloco}. */
export interface DilocoOptions {
  /** Inner steps between outer steps. */
  readonly tau: number;
  /** Outer learning rate (default 0.7). */
  readonly lr?: number;
  /** Outer momentum μ (default 0.9). */
  readonly momentum?: number;
  /** Nesterov outer momentum (default true). */
  readonly nesterov?: boolean;
  /** Optimizer buffers at each outer step (default `"keep"`, DiLoCo's choice). */
  readonly buffers?: BufferPolicy;
}

const OPTIONS: OptionNames<DilocoOptions> = {
  tau: true,
  lr: true,
  momentum: true,
  nesterov: true,
  buffers: true,
};

/**
 * DiLoCo (Douillard et al. 2023): every `tau` steps, the pseudo-gradient `Δ = θ − avg_i(x_i)`,
 * `m = μ m + Δ`, `θ −= lr · (nesterov ? Δ + μ m : m)`, and every worker restarts from `θ`. The
 * outer step does not divide by the inner learning rate, so inner schedules leave it alone;
 * `adamw` inside is the intended pairing.
 *
 * @param options Period, outer rate (default 0.7), outer momentum (default 0.9), Nesterov
 *   (default true) and buffer policy (default `"keep"`).
 * @returns A `diloco` outer node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { diloco } from "./diloco.ts";
 * const node = diloco({ tau: 50 });
 * assert.ok(node.lr === 0.7 && node.momentum === 0.9 && node.nesterov);
 * ```
 */
export function diloco(options: DilocoOptions): DilocoNode {
  return buildNode(
    {
      kind: "diloco",
      tau: options.tau,
      lr: options.lr ?? 0.7,
      momentum: options.momentum ?? 0.9,
      nesterov: options.nesterov ?? true,
      buffers: options.buffers ?? "keep",
    },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `diloco`. */
export const dilocoKind: OuterDefinition<DilocoNode> = {
  schema: v.strictObject({
    kind: v.literal("diloco"),
    tau: integer(1),
    lr: above(0),
    momentum,
    nesterov: v.boolean(),
    buffers,
  }),
  form: { make: diloco, required: ["tau"] },
  // The outer step uses its own rate, never the inner γ_k.
  dividesByLr: () => null,
  // One all-reduce of the model per period, the exact average.
  traffic: (node, d, n) => ringAllReduceBytes(d, n) / node.tau,
};
