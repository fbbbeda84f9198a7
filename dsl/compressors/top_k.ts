/**
 * `topK({ k, errorFeedback })`: top-k sparsification with error feedback (docs/algorithms.md §3.4).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { integer } from "../fields.ts";
import { buildNode, type CompressorDefinition, type OptionNames } from "../kind.ts";
import { allGatherBytes, FLOAT_BYTES, indexBits } from "../wire_bytes.ts";
import { kFitsModel } from "./_k_fits.ts";

/** Top-k sparsification, with error feedback by default. */
export interface TopKNode {
  /** Node kind, named after the DSL factory `topK()`. */
  readonly kind: "topK";
  /** Entries sent per code: the `k` largest in magnitude. */
  readonly k: number;
  /** Accumulate what was not sent and add it to the next code. */
  readonly errorFeedback: boolean;
}

/** Options of {@linkcode topK}. */
export interface TopKOptions {
  /** Entries sent per code. */
  readonly k: number;
  /** Error feedback (default true). */
  readonly errorFeedback?: boolean;
}

const OPTIONS: OptionNames<TopKOptions> = { k: true, errorFeedback: true };

/**
 * Top-k sparsification: send the `k` largest-magnitude values with their indices; with error
 * feedback (default) what was not sent is added back next time.
 *
 * @param options `k` and error feedback.
 * @returns A `topK` compressor node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topK } from "./top_k.ts";
 * assert.ok(topK({ k: 10 }).errorFeedback);
 * ```
 */
export function topK(options: TopKOptions): TopKNode {
  return buildNode(
    { kind: "topK", k: options.k, errorFeedback: options.errorFeedback ?? true },
    options,
    OPTIONS,
  );
}

/** k float32 values, then k ascending indices bit-packed at ⌈log2 d⌉ bits each. */
const wireBytes = (node: TopKNode, d: number) =>
  node.k * FLOAT_BYTES + Math.ceil(node.k * indexBits(d) / 8);

/** Everything the plan layer knows about `topK`. */
export const topKKind: CompressorDefinition<TopKNode> = {
  schema: v.strictObject({ kind: v.literal("topK"), k: integer(1), errorFeedback: v.boolean() }),
  form: { make: topK, required: ["k"] },
  compresses: ["gradient", "modelDifference", "publicDifference"],
  linear: false,
  plainSgd: null,
  errorFeedback: (node) => node.errorFeedback,
  wireBytes,
  exchangeBytes: (node, d, n) => allGatherBytes(wireBytes(node, d), n),
  check: kFitsModel,
};
