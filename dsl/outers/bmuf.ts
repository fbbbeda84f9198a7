/**
 * `bmuf({ tau, blockLr, blockMomentum, nesterov })`: blockwise model-update filtering
 * (docs/algorithms.md §2.2).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { above, integer, momentum } from "../fields.ts";
import { buildNode, type OptionNames, type OuterDefinition } from "../kind.ts";
import { ringAllReduceBytes } from "../wire_bytes.ts";

/** BMUF: blockwise model-update filtering; `blockMomentum: null` means `1 − 1/n`. */
export interface BmufNode {
  /** Node kind, named after the DSL factory `bmuf()`. */
  readonly kind: "bmuf";
  /** Steps between block updates. */
  readonly tau: number;
  /** Block learning rate `ζ` (> 0) applied to the averaged model change. */
  readonly blockLr: number;
  /** Block momentum `η` in `[0, 1)`; `null` means `1 − 1/n` for `n` workers. */
  readonly blockMomentum: number | null;
  /** Restart workers from `W + η Δ` (Nesterov) instead of `W`. */
  readonly nesterov: boolean;
}

/** Options of {@linkcode bmuf}. */
export interface BmufOptions {
  /** Steps between block updates. */
  readonly tau: number;
  /** Block learning rate ζ (default 1). */
  readonly blockLr?: number;
  /** Block momentum η (default `1 − 1/n`). */
  readonly blockMomentum?: number;
  /** Restart from `W + η Δ` (default false). */
  readonly nesterov?: boolean;
}

const OPTIONS: OptionNames<BmufOptions> = {
  tau: true,
  blockLr: true,
  blockMomentum: true,
  nesterov: true,
};

/**
 * BMUF (Chen & Huo 2016): every `tau` steps, `G = avg_i(x_i) − W`, `Δ = η Δ + ζ G`,
 * `W += Δ`; workers restart from `W` (or `W + η Δ` with Nesterov).
 *
 * @param options Period, block learning rate ζ (default 1), block momentum η (default
 *   `1 − 1/n`) and Nesterov (default false).
 * @returns A `bmuf` outer node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bmuf } from "./bmuf.ts";
 * assert.ok(bmuf({ tau: 8 }).blockMomentum === null);
 * ```
 */
export function bmuf(options: BmufOptions): BmufNode {
  return buildNode(
    {
      kind: "bmuf",
      tau: options.tau,
      blockLr: options.blockLr ?? 1,
      blockMomentum: options.blockMomentum ?? null,
      nesterov: options.nesterov ?? false,
    },
    options,
    OPTIONS,
  );
}

/**
 * BMUF's block momentum for `n` workers: the node's value, or `1 − 1/n` when unset.
 *
 * @param node The BMUF node.
 * @param workers The number of workers.
 * @returns The block momentum η.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bmuf, bmufBlockMomentum } from "./bmuf.ts";
 * assert.ok(bmufBlockMomentum(bmuf({ tau: 4 }), 4) === 0.75);
 * ```
 */
export function bmufBlockMomentum(node: BmufNode, workers: number): number {
  return node.blockMomentum ?? 1 - 1 / workers;
}

/** Everything the plan layer knows about `bmuf`. */
export const bmufKind: OuterDefinition<BmufNode> = {
  schema: v.strictObject({
    kind: v.literal("bmuf"),
    tau: integer(1),
    blockLr: above(0),
    blockMomentum: v.nullable(momentum),
    nesterov: v.boolean(),
  }),
  form: { make: bmuf, required: ["tau"] },
  dividesByLr: () => null,
  // One all-reduce of the model per period.
  traffic: (node, d, n) => ringAllReduceBytes(d, n) / node.tau,
};
