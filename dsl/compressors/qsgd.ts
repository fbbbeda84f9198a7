/**
 * `qsgd({ bits | levels, bucket })`: unbiased stochastic quantization (docs/algorithms.md §3.1).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { integer } from "../fields.ts";
import { buildNode, type CompressorDefinition, type OptionNames } from "../kind.ts";
import { allGatherBytes, quantizedBytes } from "../wire_bytes.ts";

/** The widest level a QSGD code may use, in bits (65,535 levels). */
const MAX_BITS = 16;

/** QSGD stochastic quantization with `levels` levels per sign, normalised per bucket. */
export interface QsgdNode {
  /** Node kind, named after the DSL factory `qsgd()`. */
  readonly kind: "qsgd";
  /** Quantization levels per sign `s` (`2^bits − 1` for a bit width), 1 to 65,535. */
  readonly levels: number;
  /** Values per bucket; each bucket is scaled by its own float32 norm. */
  readonly bucket: number;
}

/** Options of {@linkcode qsgd}: give either `bits` (levels `2^bits − 1`) or `levels`. */
export type QsgdOptions =
  & { readonly bucket?: number }
  & ({ readonly bits?: number; readonly levels?: never } | {
    readonly levels: number;
    readonly bits?: never;
  });

const OPTIONS: OptionNames<QsgdOptions> = { bucket: true, bits: true, levels: true };

/**
 * QSGD (Alistarh et al. 2017): unbiased stochastic quantization to `s` levels per bucket of
 * `bucket` values, one float32 norm per bucket. Codes are aggregated by all-gather.
 *
 * @param options Bits (default 4, so 15 levels) or levels, and bucket size (default 512).
 * @returns A `qsgd` compressor node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qsgd } from "./qsgd.ts";
 * assert.ok(qsgd({ bits: 2 }).levels === 3);
 * ```
 */
export function qsgd(options: QsgdOptions = {}): QsgdNode {
  const bits = options.bits ?? 4;
  // A bit width is said in bits: a wrong one is reported as such, not as its level count.
  const badBits = options.levels === undefined &&
    !(Number.isInteger(bits) && bits >= 1 && bits <= MAX_BITS);
  return buildNode(
    { kind: "qsgd", levels: options.levels ?? 2 ** bits - 1, bucket: options.bucket ?? 512 },
    options,
    OPTIONS,
    badBits
      ? [{
        path: "bits",
        message: `must be an integer from 1 to ${MAX_BITS}`,
        expected: `an integer from 1 to ${MAX_BITS}`,
        received: JSON.stringify(bits) ?? String(bits),
        field: "levels",
      }]
      : [],
  );
}

/** Bytes of one QSGD code of `d` values. */
const wireBytes = (node: QsgdNode, d: number) =>
  quantizedBytes(Math.ceil(Math.log2(node.levels + 1)), node.bucket, d);

/** Everything the plan layer knows about `qsgd`. */
export const qsgdKind: CompressorDefinition<QsgdNode> = {
  schema: v.strictObject({
    kind: v.literal("qsgd"),
    levels: integer(1, 2 ** MAX_BITS - 1),
    bucket: integer(1),
  }),
  // Printed as a bit width where its levels are `2^bits − 1`, as QSGD is usually written.
  form: {
    make: qsgd,
    options: ({ levels, bucket }: QsgdNode) =>
      Number.isInteger(Math.log2(levels + 1))
        ? { bits: Math.log2(levels + 1), bucket }
        : { levels, bucket },
  },
  compresses: ["gradient", "modelDifference", "publicDifference"],
  linear: false,
  plainSgd: null,
  errorFeedback: () => false,
  wireBytes,
  exchangeBytes: (node, d, n) => allGatherBytes(wireBytes(node, d), n),
};
