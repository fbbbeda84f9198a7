/**
 * The compressed mean (docs/algorithms.md §3): how every base averages what it sends when the
 * plan has a compressor. Each worker encodes its payload (through error feedback when the
 * compressor uses it), the codes cross the wire in phase `compressed`, and every rank decodes
 * the same codes in the same order, so every rank gets a bit-identical mean:
 *
 * - a linear code (a count sketch) is summed by all-reduce, then decoded once;
 * - any other code is all-gathered and each rank's code decoded in rank order into a float64
 *   sum (never by summing codes), which is divided by `n` and rounded to float32 once.
 *
 * `n` is the number of members (`comm.members`), not the run's size: in an elastic run that lost
 * workers the mean is over the survivors, whose codes are all the exchange carries.
 *
 * @module
 */

import type { CompressorNode } from "../../dsl/plan.ts";
import { compressorTraits } from "../../dsl/traits.ts";
import type { Communicator } from "../comm/types.ts";
import { bytesAsFloats, floatsAsBytes } from "../comm/wire.ts";
import { randomStream } from "../random.ts";
import type { StateBuffer } from "../state.ts";
import type {
  ChannelFactory,
  ChannelOptions,
  Codec,
  CodecFactory,
  CompressedChannel,
  CompressorOptions,
} from "./types.ts";

/**
 * Exchanges one code per rank and returns the mean of the decoded vectors, identical on every
 * rank. Every rank must call it at the same point, like any collective.
 *
 * @param comm The worker's communicator.
 * @param codec The codec (the same kind and size on every rank).
 * @param code This rank's code.
 * @param d The vector length.
 * @returns A fresh float32 vector: `(1/n) Σ_i decode(code_i)` over the `n` members.
 * @throws {PeerError} From the communicator, when a peer fails.
 */
export async function exchangeCompressed(
  comm: Communicator,
  codec: Codec,
  code: Uint8Array,
  d: number,
): Promise<Float32Array> {
  let sum: Float64Array;
  if (codec.linear) {
    const summed = await comm.allReduceSum(bytesAsFloats(code), "compressed");
    sum = new Float64Array(d);
    codec.addDecoded(floatsAsBytes(summed), sum, 1);
  } else {
    const codes = await comm.allGather(code, "compressed");
    // The codec's own mean where it has one (QSGD's, with its sum in kernel memory): the same
    // bits as the loop below.
    const mean = codec.meanOf?.(codes, comm.members.length);
    if (mean !== undefined) return mean;
    sum = new Float64Array(d);
    for (const each of codes) codec.addDecoded(each, sum, 1);
  }
  const n = comm.members.length;
  const mean = new Float32Array(d);
  for (let j = 0; j < d; j++) mean[j] = sum[j]! / n;
  return mean;
}

/**
 * The channel of a codec-based compressor: the codec, wrapped in error feedback when the node
 * asks for it (docs/algorithms.md §3.4): `e += p`; send `C(e)`; `e −= C(e)`, so the float32
 * residual `e` holds exactly what was not sent yet. The residual is the buffer
 * `<kind>.residual`, and its norm is reported with every step, beside the codec's own metrics.
 *
 * @param factory The codec's factory.
 * @returns The channel factory, carrying the codec factory.
 * @example Two workers, top-1 with error feedback
 * ```ts
 * import assert from "node:assert/strict";
 * import { codecChannel } from "./compressed_mean.ts";
 * import { topKCodec } from "./top_k.ts";
 * import { createMemoryCommunicators } from "../comm/memory_transport.ts";
 * import { topK } from "../../dsl/compressors/mod.ts";
 *
 * const comms = createMemoryCommunicators(2);
 * const channels = comms.map((comm) =>
 *   codecChannel(topKCodec)(topK({ k: 1 }), { d: 2, steps: 1, comm, seed: 0 })
 * );
 * const payloads = [Float32Array.of(4, 1), Float32Array.of(0, -2)];
 * const means = await Promise.all(channels.map((channel, i) => channel.mean(payloads[i]!, 0)));
 * assert.deepEqual([...means[0]!], [2, -1]); // (4, 0) and (0, −2), averaged
 * assert.deepEqual([...channels[0]!.buffers()[0]!.data], [0, 1]); // the 1 not sent yet
 * ```
 */
export function codecChannel<N extends CompressorNode>(
  factory: CodecFactory<N>,
): ChannelFactory<N> {
  const build = (node: N, options: ChannelOptions): CompressedChannel => {
    const { d, comm, seed } = options;
    const codec = withTraits(node, options, factory);
    const residual = compressorTraits(node).errorFeedback(node) ? new Float32Array(d) : null;
    const residualBuffer: StateBuffer[] = residual === null
      ? []
      : [{ name: `${node.kind}.residual`, data: residual, momentum: false, perWorker: true }];
    return {
      async mean(payload, step) {
        if (payload.length !== d) {
          throw new RangeError(`Cannot compress: ${payload.length} values, expected ${d}`);
        }
        let sent = payload;
        if (residual !== null) {
          for (let j = 0; j < d; j++) residual[j] = residual[j]! + payload[j]!;
          sent = residual;
        }
        const code = codec.encode(sent, {
          step,
          random: randomStream(seed, "compress", comm.rank, step),
        });
        if (residual !== null) codec.addDecoded(code, residual, -1);
        const mean = await exchangeCompressed(comm, codec, code, d);
        codec.observeMean?.(mean);
        return mean;
      },
      metrics() {
        const own = codec.metrics?.() ?? {};
        if (residual === null) return own;
        let squares = 0;
        for (let j = 0; j < d; j++) squares += residual[j]! * residual[j]!;
        return { ...own, residualNorm: Math.sqrt(squares) };
      },
      buffers: () => [...codec.buffers(), ...residualBuffer],
      resetMomentum() {},
    };
  };
  return Object.assign(build, { codec: factory });
}

/**
 * A codec with its algebra and size from the compressor's traits row.
 *
 * @param node The compressor node.
 * @param options The vector length and the plan's steps.
 * @param factory The codec's factory.
 * @returns The codec.
 */
export function withTraits<N extends CompressorNode>(
  node: N,
  options: CompressorOptions,
  factory: CodecFactory<N>,
): Codec {
  const traits = compressorTraits(node);
  return {
    linear: traits.linear,
    wireBytes: traits.wireBytes(node, options.d),
    ...factory(node, options),
  };
}
