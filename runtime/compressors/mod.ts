/**
 * The compressor slot (docs/algorithms.md §3): codecs that encode what a base sends in fewer
 * bytes, the table that maps compressor kinds to them, error feedback, and the compressed mean
 * every base uses to average under compression.
 *
 * @example Encode a vector with top-k and decode it
 * ```ts
 * import assert from "node:assert/strict";
 * import { createCodec } from "./mod.ts";
 * import { topK } from "../../dsl/compressors/mod.ts";
 * import { randomStream } from "../random.ts";
 *
 * const codec = createCodec(topK({ k: 1 }), { d: 3, steps: 1 });
 * const code = codec.encode(Float32Array.of(1, -5, 2), { step: 0, random: randomStream(0, "x") });
 * assert.equal(code.length, codec.wireBytes);
 * const decoded = new Float32Array(3);
 * codec.addDecoded(code, decoded, 1);
 * assert.deepEqual([...decoded], [0, -5, 0]);
 * ```
 *
 * @module
 */

export type {
  ChannelFactory,
  ChannelOptions,
  Codec,
  CodecCore,
  CodecFactory,
  CompressedChannel,
  CompressorOptions,
  EncodeContext,
} from "./types.ts";
export type { Random, StreamKey } from "../random.ts";
export { CHANNELS, createChannel, createCodec } from "./registry.ts";
export { codecChannel, exchangeCompressed, withTraits } from "./compressed_mean.ts";
export { topKCodec, topKIndices } from "./top_k.ts";
