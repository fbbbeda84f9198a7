/**
 * The compressor table: one channel factory per compressor kind, a mapped type over the plan's
 * compressor union, so a compressor kind added to the DSL fails `deno check` until it has an
 * entry here. A codec-based compressor is a codec file wrapped by `codecChannel` (error feedback
 * and the compressed mean come with it); a compressor that is an algorithm of its own (Sketched
 * SGD, FetchSGD) is a channel.
 *
 * @module
 */

import type { CompressorKind, CompressorNode, CompressorNodeOf } from "../../dsl/plan.ts";
import { codecChannel, withTraits } from "./compressed_mean.ts";
import type {
  ChannelFactory,
  ChannelOptions,
  Codec,
  CompressedChannel,
  CompressorOptions,
} from "./types.ts";
import { dqSgdCodec } from "./dq_sgd.ts";
import { fetchSgdChannel } from "./fetch_sgd.ts";
import { qsgdCodec } from "./qsgd.ts";
import { sketchedSgdChannel } from "./sketched_sgd.ts";
import { topKCodec } from "./top_k.ts";

/**
 * Channel factories by compressor kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CHANNELS } from "./registry.ts";
 *
 * assert.equal(typeof CHANNELS.topK, "function");
 * ```
 */
export const CHANNELS: {
  readonly [K in CompressorKind]: ChannelFactory<CompressorNodeOf<K>>;
} = Object.freeze({
  qsgd: codecChannel(qsgdCodec),
  dqSgd: codecChannel(dqSgdCodec),
  sketchedSgd: sketchedSgdChannel,
  fetchSgd: fetchSgdChannel,
  topK: codecChannel(topKCodec),
});

/**
 * Builds one worker's compressed channel for a compressor node.
 *
 * @param node The plan's compressor node.
 * @param options The vector length, the plan's steps, the communicator and the plan seed.
 * @returns The channel.
 */
export function createChannel(node: CompressorNode, options: ChannelOptions): CompressedChannel {
  // The one place the table is indexed by a union: each entry takes its own kind's node.
  const factory = CHANNELS[node.kind] as ChannelFactory<CompressorNode>;
  return factory(node, options);
}

/**
 * Builds one worker's codec for a codec-based compressor node: the codec file's encoder and
 * decoder, with the algebra and the exact size from the compressor's traits row.
 *
 * @param node The plan's compressor node.
 * @param options The vector length and the plan's steps.
 * @returns The codec.
 * @throws {Error} When the compressor is not a codec.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createCodec } from "./registry.ts";
 * import { topK } from "../../dsl/compressors/mod.ts";
 *
 * const codec = createCodec(topK({ k: 10 }), { d: 1000, steps: 1 });
 * assert.equal(codec.linear, false);
 * assert.equal(codec.wireBytes, 10 * 4 + 13);
 * ```
 */
export function createCodec(node: CompressorNode, options: CompressorOptions): Codec {
  const factory = (CHANNELS[node.kind] as ChannelFactory<CompressorNode>).codec;
  if (factory === undefined) {
    throw new Error(`Cannot create codec: "${node.kind}" is not a codec-based compressor here`);
  }
  return withTraits(node, options, factory);
}
