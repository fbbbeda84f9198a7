/**
 * The compressor slot's contract (docs/algorithms.md §3; after GRACE's compressor/memory split
 * and hivemind's `compression/base.py`). A {@linkcode Codec} turns a vector into bytes and back
 * and declares its algebra; the compressed mean (`compressed_mean.ts`) exchanges codes over a
 * communicator; error feedback wraps any codec. Bases see only a {@linkcode CompressedChannel}:
 * they never know which codec runs.
 *
 * @module
 */

import type { Communicator } from "../comm/types.ts";
import type { Random } from "../random.ts";
import type { StepMetrics } from "../metrics.ts";
import type { StateBuffer, Stateful } from "../state.ts";

/** What an encoder may depend on besides the vector. */
export interface EncodeContext {
  /** The step, from 0. */
  readonly step: number;
  /**
   * The random stream of this worker and step (`randomStream(seed, "compress", rank, step)`),
   * so stochastic codecs are reproducible run to run.
   */
  readonly random: Random;
}

/** One worker's codec for vectors of a fixed length `d`. */
export interface Codec {
  /**
   * Codes can be summed before decoding (a count sketch): the compressed mean all-reduces them
   * as float32 values. Otherwise codes are all-gathered and decoded in rank order.
   */
  readonly linear: boolean;
  /** The exact bytes of one code (the compressor's traits row; the codec's tests hold it to it). */
  readonly wireBytes: number;
  /**
   * Encodes a vector of `d` values.
   *
   * @param values The vector (not modified).
   * @param context The step and its random stream.
   * @returns The code, exactly {@linkcode Codec.wireBytes} long, in its own buffer.
   */
  encode(values: Float32Array, context: EncodeContext): Uint8Array;
  /**
   * Adds `scale ×` the decoded vector to `target` (`target[j] += scale · decode(code)[j]`), so
   * codes can be accumulated in rank order and subtracted by error feedback without a dense
   * intermediate.
   *
   * @param code A code of this codec (for a linear codec, possibly a sum of codes).
   * @param target A vector of `d` values, updated in place.
   * @param scale The factor.
   * @throws {RangeError} When the code is malformed.
   */
  addDecoded(code: Uint8Array, target: Float32Array | Float64Array, scale: number): void;
  /**
   * The mean of non-linear codes, `(1/n) Σ_i decode(code_i)`, exactly as the compressed mean
   * computes it (decoded in order into a float64 sum, divided by `n`, rounded to float32 once),
   * for a codec that can do it faster than decoding each code with {@linkcode addDecoded} (QSGD:
   * its WebAssembly kernel keeps the sum in its own memory). `undefined` when it cannot; then the
   * caller decodes.
   *
   * @param codes The codes, in rank order.
   * @param n The divisor.
   * @returns A fresh float32 vector, or `undefined`.
   * @throws {RangeError} When a code is malformed.
   */
  meanOf?(codes: readonly Uint8Array[], n: number): Float32Array | undefined;
  /** State the codec keeps between steps (none for stateless codecs), for checkpoints. */
  buffers(): readonly StateBuffer[];
  /**
   * Sees the mean every rank decoded (the same on every rank), for codecs whose next choice
   * depends on shared quantities (DQ-SGD's bit width on the averaged gradient's norm).
   */
  observeMean?(mean: Float32Array): void;
  /** The codec's metrics of the last step (DQ-SGD's bit width), for the step's line. */
  metrics?(): StepMetrics;
}

/**
 * What a codec's own file implements: encoding and decoding. Its algebra (`linear`) and its
 * size (`wireBytes`) come from the compressor's traits row, written once for the validator, the
 * explainer and the runtime.
 */
export type CodecCore = Omit<Codec, "linear" | "wireBytes">;

/** What a codec or a compressed channel may depend on besides its node. */
export interface CompressorOptions {
  /** The vector length. */
  readonly d: number;
  /** The plan's steps (DQ-SGD spreads its bit budget over them). */
  readonly steps: number;
}

/** Builds one worker's codec for a compressor node. */
export type CodecFactory<N> = (node: N, options: CompressorOptions) => CodecCore;

/** What a compressed channel needs besides its node. */
export interface ChannelOptions extends CompressorOptions {
  /** The worker's communicator. */
  readonly comm: Communicator;
  /** The plan seed, for the per-step random streams and shared hashes. */
  readonly seed: number;
}

/**
 * Builds one worker's compressed channel for a compressor node. Codec-based compressors carry
 * their codec factory too (`codecChannel`), for tests and benchmarks of the codec alone.
 */
export interface ChannelFactory<N> {
  (node: N, options: ChannelOptions): CompressedChannel;
  /** The codec behind the channel, when the compressor is a codec with error feedback. */
  readonly codec?: CodecFactory<N>;
}

/** What a base uses to average its payload under compression. */
export interface CompressedChannel extends Stateful {
  /**
   * The mean over workers of every worker's `payload`, compressed on the wire (phase
   * `compressed`), bit-identical on every rank. Every rank must call it at the same step.
   *
   * @param payload This worker's vector (not modified).
   * @param step The step, from 0.
   * @param lr The step's learning rate `γ_k`, for a channel that applies it itself
   *   ({@linkcode CompressedChannel.returnsUpdate}); other channels ignore it.
   * @returns A fresh float32 vector: the mean, or with `returnsUpdate` the model update.
   */
  mean(payload: Float32Array, step: number, lr?: number): Promise<Float32Array>;
  /**
   * `true` when what {@linkcode CompressedChannel.mean} returns is already the model update, the
   * learning rate and the channel's own momentum applied (FetchSGD, §3.5: `γ_k` enters its error
   * sketch before the top-k): the base moves `x −= result` without its optimizer. Absent for
   * channels that return a mean for the optimizer.
   */
  readonly returnsUpdate?: boolean;
  /** Metrics of the last exchange (error feedback's residual norm), for the step's line. */
  metrics(): StepMetrics;
}
