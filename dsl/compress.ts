/**
 * Compressors (docs/algorithms.md §3): what a base sends, encoded in fewer bytes.
 *
 * @module
 */

import { deepFreeze } from "./_freeze.ts";
import type { DqSgdNode, QsgdNode, SketchedSgdNode, TopKNode } from "./plan.ts";

/** Options of {@linkcode qsgd}: give either `bits` (levels `2^bits − 1`) or `levels`. */
export type QsgdOptions =
  & { readonly bucket?: number }
  & ({ readonly bits?: number; readonly levels?: never } | {
    readonly levels: number;
    readonly bits?: never;
  });

/**
 * QSGD (Alistarh et al. 2017): unbiased stochastic quantization to `s` levels per bucket of
 * `bucket` values, one float32 norm per bucket. Codes are aggregated by all-gather.
 *
 * @param options Bits (default 4, so 15 levels) or levels, and bucket size (default 512).
 * @returns A `qsgd` compressor node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qsgd } from "./compress.ts";
 * assert.ok(qsgd({ bits: 2 }).levels === 3);
 * ```
 */
export function qsgd(options: QsgdOptions = {}): QsgdNode {
  const levels = options.levels ?? 2 ** (options.bits ?? 4) - 1;
  return deepFreeze({ kind: "qsgd", levels, bucket: options.bucket ?? 512 });
}

/**
 * DQ-SGD (Yan et al. 2021): QSGD whose bit width `b_k` changes per step, chosen identically on
 * every worker so the average bits per value meet `budgetBits`.
 *
 * @param options Bit range (default 2..8), budget (default 4) and bucket size (default 512).
 * @returns A `dqSgd` compressor node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dqSgd } from "./compress.ts";
 * assert.ok(dqSgd({ budgetBits: 3 }).maxBits === 8);
 * ```
 */
export function dqSgd(
  options: {
    readonly minBits?: number;
    readonly maxBits?: number;
    readonly budgetBits?: number;
    readonly bucket?: number;
  } = {},
): DqSgdNode {
  return deepFreeze({
    kind: "dqSgd",
    minBits: options.minBits ?? 2,
    maxBits: options.maxBits ?? 8,
    budgetBits: options.budgetBits ?? 4,
    bucket: options.bucket ?? 512,
  });
}

/**
 * Sketched SGD (Ivkin et al. 2019): count sketches of accumulated momentum, summed by
 * all-reduce (sketches are linear); the top `k` coordinates are applied.
 *
 * @param options Sketch rows (default 5) and columns (default `10·k`), `k`, second-round
 *   factor `p2` (default 0) and momentum `rho` (default 0.9).
 * @returns A `sketchedSgd` compressor node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sketchedSgd } from "./compress.ts";
 * assert.ok(sketchedSgd({ k: 100 }).cols === 1000);
 * ```
 */
export function sketchedSgd(
  options: {
    readonly k: number;
    readonly rows?: number;
    readonly cols?: number;
    readonly p2?: number;
    readonly rho?: number;
  },
): SketchedSgdNode {
  return deepFreeze({
    kind: "sketchedSgd",
    rows: options.rows ?? 5,
    cols: options.cols ?? 10 * options.k,
    k: options.k,
    p2: options.p2 ?? 0,
    rho: options.rho ?? 0.9,
  });
}

/**
 * Top-k sparsification: send the `k` largest-magnitude values with their indices; with error
 * feedback (default) what was not sent is added back next time.
 *
 * @param options `k` and error feedback.
 * @returns A `topK` compressor node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topK } from "./compress.ts";
 * assert.ok(topK({ k: 10 }).errorFeedback);
 * ```
 */
export function topK(options: { readonly k: number; readonly errorFeedback?: boolean }): TopKNode {
  return deepFreeze({ kind: "topK", k: options.k, errorFeedback: options.errorFeedback ?? true });
}
