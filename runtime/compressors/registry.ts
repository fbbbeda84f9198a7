/**
 * The compressor table: one codec factory per compressor kind, a mapped type over the plan's
 * compressor union, so a new compressor kind fails `deno check` until it has an entry here
 * (`null` until its codec exists; {@linkcode createCodec} refuses it by name). Adding a
 * compressor is its codec file, its test and one line here.
 *
 * @module
 */

import type { CompressorKind, CompressorNode, CompressorNodeOf } from "../../dsl/plan.ts";
import { compressorTraits } from "../../dsl/traits.ts";
import type { Codec, CodecFactory } from "./types.ts";
import { topKCodec } from "./top_k.ts";

/**
 * Codec factories by compressor kind; `null` = not implemented yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CODECS } from "./registry.ts";
 *
 * assert.equal(typeof CODECS.topK, "function");
 * assert.equal(CODECS.qsgd, null);
 * ```
 */
export const CODECS: { readonly [K in CompressorKind]: CodecFactory<CompressorNodeOf<K>> | null } =
  Object.freeze({
    qsgd: null,
    dqSgd: null,
    sketchedSgd: null,
    topK: topKCodec,
  });

/**
 * Builds one worker's codec for a compressor node: the codec file's encoder and decoder, with
 * the algebra and the exact size from the compressor's traits row.
 *
 * @param node The plan's compressor node.
 * @param d The vector length.
 * @returns The codec.
 * @throws {Error} When the compressor kind is not implemented yet.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createCodec } from "./registry.ts";
 * import { topK } from "../../dsl/compress.ts";
 *
 * const codec = createCodec(topK({ k: 10 }), 1000);
 * assert.equal(codec.linear, false);
 * assert.equal(codec.wireBytes, 10 * 4 + 13);
 * ```
 */
export function createCodec(node: CompressorNode, d: number): Codec {
  // The one place the table is indexed by a union: each entry takes its own kind's node.
  const factory = CODECS[node.kind] as CodecFactory<CompressorNode> | null;
  if (factory === null) {
    throw new Error(`Cannot create compressor: "${node.kind}" is not implemented yet`);
  }
  const traits = compressorTraits(node);
  return { linear: traits.linear, wireBytes: traits.wireBytes(node, d), ...factory(node, d) };
}
