/**
 * `overlapLocalSgd({ tau, alpha, beta })`: an anchor model whose all-reduce overlaps computation
 * (docs/algorithms.md §1.7).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { between, integer, momentum } from "../fields.ts";
import { type BaseDefinition, buildNode, type OptionNames } from "../kind.ts";
import { ringAllReduceBytes } from "../wire_bytes.ts";

/** Overlap Local-SGD: an anchor model whose all-reduce overlaps computation. */
export interface OverlapLocalSgdNode {
  /** Node kind, named after the DSL factory `overlapLocalSgd()`. */
  readonly kind: "overlapLocalSgd";
  /** Steps between pulls toward the anchor model (and all-reduces of it). */
  readonly tau: number;
  /** Pull-back weight `α` in `[0, 1]`: `x_i = (1−α) x_i + α z` at each sync point. */
  readonly alpha: number;
  /** Anchor momentum `β` in `[0, 1)`; 0 sends the models themselves. */
  readonly beta: number;
}

/** Options of {@linkcode overlapLocalSgd}. */
export interface OverlapLocalSgdOptions {
  /** Steps between pulls toward the anchor. */
  readonly tau: number;
  /** Pull-back weight α (default 0.2, the reference code's). */
  readonly alpha?: number;
  /** Anchor momentum β (default 0). */
  readonly beta?: number;
}

const OPTIONS: OptionNames<OverlapLocalSgdOptions> = { tau: true, alpha: true, beta: true };

/**
 * Overlap Local-SGD (Wang, Liang, Joshi 2020): every `tau` steps each worker is pulled toward
 * an anchor model `z` (`x_i = (1−α) x_i + α z`) whose all-reduce runs while computation goes on.
 *
 * @param options Period, pull-back α (default 0.2) and anchor momentum β (default 0).
 * @returns An `overlapLocalSgd` base node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { overlapLocalSgd } from "./overlap_local_sgd.ts";
 * assert.ok(overlapLocalSgd({ tau: 2 }).alpha === 0.2);
 * ```
 */
export function overlapLocalSgd(options: OverlapLocalSgdOptions): OverlapLocalSgdNode {
  return buildNode(
    {
      kind: "overlapLocalSgd",
      tau: options.tau,
      alpha: options.alpha ?? 0.2,
      beta: options.beta ?? 0,
    },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `overlapLocalSgd`. */
export const overlapLocalSgdKind: BaseDefinition<OverlapLocalSgdNode, false> = {
  schema: v.strictObject({
    kind: v.literal("overlapLocalSgd"),
    tau: integer(1),
    alpha: between(0, 1),
    beta: momentum,
  }),
  form: { make: overlapLocalSgd, required: ["tau"] },
  topology: null,
  decentralized: false,
  ownsMomentum: false,
  plainSgd: null,
  acceptsOuter: false,
  compresses: null,
  dividesByLr: (node) => node.beta > 0 ? "overlapLocalSgd with beta > 0" : null,
  syncPeriod: (node) => node.tau,
  traffic: (node, { d, n }) => ({ base: ringAllReduceBytes(d, n) / node.tau, compressed: 0 }),
};
