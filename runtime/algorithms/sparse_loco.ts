/**
 * SparseLoCo, chunked top-k of an error-feedback accumulator, quantized and all-gathered
 * (docs/algorithms.md §2.5; Sarfi et al., "Communication efficient LLM pre-training with
 * SparseLoCo", 2025).
 *
 * Choices where the paper leaves room, fixed here so that runs can be checked line by line:
 * - chunks are `chunk` consecutive coordinates of the flat model; the last one may be shorter and
 *   keeps `min(k, its length)` values; among equal magnitudes the lower index is kept;
 * - a kept index is its position in its chunk, `⌈log2 chunk⌉` bits wide (chunk need not be a
 *   power of two: 3000 takes 12 bits);
 * - `bits` 1 to 8: per chunk, `M` = the largest kept magnitude rounded to float32, and the
 *   `2^b` levels `−M + 2M·l/(2^b − 1)`, `l = 0..2^b − 1` (zero is not a level), evaluated as
 *   `M·(2l − L)/L` with `L = 2^b − 1` so that they are exactly symmetric; each kept value
 *   goes to its nearest level, a tie to the level of smaller magnitude, and a tie between a level
 *   and its negative (a kept value of exactly 0, or `M = 0`) to the higher `l`;
 * - `bits: 32`: the kept values travel as float32, unquantized, and no `M` is sent;
 * - the error feedback loses exactly what the worker's own code decodes to, so what rounding
 *   or quantization drops now is sent later.
 *
 * Wire format: `sparseLocoCodeBytes` of `dsl/outers/sparse_loco.ts`, the single formula the plan
 * explainer and these codes share.
 *
 * @module
 */

import type { SparseLocoNode } from "../../dsl/plan.ts";
import { sparseLocoCodeBytes, sparseLocoKept } from "../../dsl/outers/sparse_loco.ts";
import { indexBits } from "../../dsl/wire_bytes.ts";
import { bytesAsFloats } from "../comm/wire.ts";
import { packBits, packedBytes, unpackBits } from "../compressors/_bits.ts";
import { topKIndices } from "../compressors/top_k.ts";
import type { OuterAlgorithm, StepContext } from "./types.ts";
import { checkSameLength, endsPeriod } from "./_vector.ts";

/** What a codec needs from the node. */
export type SparseLocoCodecSettings = Pick<SparseLocoNode, "chunk" | "k" | "bits">;

/**
 * The positions (within the chunk `values[start..end)`) of its `k` largest magnitudes, ascending;
 * among equal magnitudes the lower positions are kept: {@linkcode topKIndices} on the chunk.
 *
 * @param values The vector.
 * @param start The chunk's first index.
 * @param end One past the chunk's last index.
 * @param k How many to keep (all when `k ≥ end − start`).
 * @returns `min(k, end − start)` positions, ascending.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chunkTopK } from "./sparse_loco.ts";
 * const values = Float64Array.of(9, 0.5, -3, 2, -3, 7);
 * // The chunk [0.5, −3, 2, −3]: −3 twice beats 2, and the tie keeps both positions.
 * assert.deepEqual(chunkTopK(values, 1, 5, 2), [1, 3]);
 * assert.deepEqual(chunkTopK(values, 1, 5, 3), [1, 2, 3]);
 * ```
 */
export function chunkTopK(values: Float64Array, start: number, end: number, k: number): number[] {
  return [...topKIndices(values.subarray(start, end), k)];
}

/**
 * The value of level `l` of `bits` bits over `[−scale, scale]`: `−M + 2M·l/(2^b − 1)`, evaluated
 * as `M·(2l − L)/L` with `L = 2^b − 1`, so that levels `l` and `L − l` are exact negatives and
 * the end levels exactly `±M`.
 *
 * @param level The level, `0..2^bits − 1`.
 * @param scale `M`, the chunk's float32 scale.
 * @param bits Bits per level, 1 to 8.
 * @returns The level's value.
 */
export function levelValue(level: number, scale: number, bits: number): number {
  const top = 2 ** bits - 1;
  return scale * (2 * level - top) / top;
}

/**
 * The level nearest to `value` among `levelValue(0..2^b − 1, scale, bits)`: a tie goes to the
 * level of smaller magnitude (toward zero), and a tie between a level and its negative to the
 * higher level.
 *
 * @param value The value, usually within `[−scale, scale]` (outside, the end level is nearest).
 * @param scale `M ≥ 0`.
 * @param bits Bits per level, 1 to 8.
 * @returns The level `l`.
 * @example Two bits over [−3, 3]: the levels are −3, −1, 1, 3
 * ```ts
 * import assert from "node:assert/strict";
 * import { nearestLevel } from "./sparse_loco.ts";
 * assert.equal(nearestLevel(2.2, 3, 2), 3);
 * assert.equal(nearestLevel(2, 3, 2), 2); // halfway between 1 and 3: toward zero
 * assert.equal(nearestLevel(-2, 3, 2), 1); // halfway between −3 and −1: toward zero
 * assert.equal(nearestLevel(0, 3, 2), 2); // halfway between −1 and 1: the higher level
 * ```
 */
export function nearestLevel(value: number, scale: number, bits: number): number {
  const top = 2 ** bits - 1;
  if (scale === 0) return top;
  const guess = Math.floor((value + scale) * top / (2 * scale));
  let best = -1;
  let bestDistance = Infinity;
  let bestMagnitude = Infinity;
  // The guess is off by at most one level from rounding; look around it.
  for (let l = Math.max(0, guess - 1); l <= Math.min(top, guess + 2); l++) {
    const level = levelValue(l, scale, bits);
    const distance = Math.abs(value - level);
    const magnitude = Math.abs(level);
    if (
      distance < bestDistance ||
      (distance === bestDistance && magnitude <= bestMagnitude)
    ) {
      best = l;
      bestDistance = distance;
      bestMagnitude = magnitude;
    }
  }
  if (best < 0) best = guess < 0 ? 0 : top;
  return best;
}

/** A SparseLoCo code and the dequantized sparse vector it decodes to. */
export interface SparseLocoCodec {
  /** Bytes of every code, `sparseLocoCodeBytes(node, d)`. */
  readonly codeBytes: number;
  /** Encodes the chunked top-k of `values` (see the module doc for the format). */
  encode(values: Float64Array): Uint8Array;
  /**
   * Adds `scale ×` the vector a code decodes to into `target`.
   *
   * @throws {RangeError} When the code has the wrong length or an index outside its chunk or
   *   out of ascending order.
   */
  addDecoded(code: Uint8Array, target: Float64Array, scale?: number): void;
}

/**
 * The SparseLoCo codec for vectors of `d` values.
 *
 * @param settings `chunk`, `k` (at most `chunk`) and `bits` (1 to 8, or 32).
 * @param d The vector length.
 * @returns The codec.
 * @example Keep 1 of each chunk of 2 at 2 bits: the largest of a chunk is its own `±M`
 * ```ts
 * import assert from "node:assert/strict";
 * import { sparseLocoCodec } from "./sparse_loco.ts";
 * const codec = sparseLocoCodec({ chunk: 2, k: 1, bits: 2 }, 3);
 * const code = codec.encode(Float64Array.of(0.5, -2, 0.25));
 * assert.equal(code.length, codec.codeBytes); // 2 scales, 2 one-bit indices, 2 levels of 2 bits
 * const decoded = new Float64Array(3);
 * codec.addDecoded(code, decoded);
 * assert.deepEqual([...decoded], [0, -2, 0.25]);
 * ```
 */
export function sparseLocoCodec(settings: SparseLocoCodecSettings, d: number): SparseLocoCodec {
  const { chunk, k, bits } = settings;
  const raw = bits === 32;
  const chunks = Math.ceil(d / chunk);
  const kept = sparseLocoKept(settings, d);
  const widthOfIndex = indexBits(chunk);
  const codeBytes = sparseLocoCodeBytes(settings, d);
  // Float32 first (scales, or the values at 32 bits), then packed indices, then packed levels.
  const floatBytes = 4 * (raw ? kept : chunks);
  const indexAt = floatBytes;
  const levelAt = indexAt + packedBytes(kept, widthOfIndex);
  const chunkEnd = (c: number) => Math.min(d, (c + 1) * chunk);
  return {
    codeBytes,
    encode(values) {
      if (values.length !== d) {
        throw new RangeError(
          `Cannot encode for sparseLoco: ${values.length} values, expected ${d}`,
        );
      }
      const code = new Uint8Array(codeBytes);
      const floats = new Float32Array(code.buffer, 0, floatBytes / 4);
      const positions = new Uint32Array(kept);
      const levels = new Uint32Array(raw ? 0 : kept);
      let at = 0;
      for (let c = 0; c < chunks; c++) {
        const start = c * chunk;
        const chosen = chunkTopK(values, start, chunkEnd(c), k);
        let largest = 0;
        for (const j of chosen) largest = Math.max(largest, Math.abs(values[start + j]!));
        const scale = Math.fround(largest);
        if (!raw) floats[c] = scale;
        for (const j of chosen) {
          const value = values[start + j]!;
          if (raw) floats[at] = value;
          else levels[at] = nearestLevel(value, scale, bits);
          positions[at++] = j;
        }
      }
      packBits(positions, widthOfIndex, code, indexAt);
      if (!raw) packBits(levels, bits, code, levelAt);
      return code;
    },
    addDecoded(code, target, scale = 1) {
      if (code.length !== codeBytes) {
        throw new RangeError(
          `Cannot decode a sparseLoco code of ${code.length} bytes: expected ${codeBytes}`,
        );
      }
      checkSameLength(target, { length: d }, "the sparseLoco code");
      const floats = bytesAsFloats(code.subarray(0, floatBytes));
      const positions = unpackBits(code, widthOfIndex, kept, indexAt);
      const levels = raw ? null : unpackBits(code, bits, kept, levelAt);
      let at = 0;
      for (let c = 0; c < chunks; c++) {
        const start = c * chunk;
        const length = chunkEnd(c) - start;
        const count = Math.min(k, length);
        let previous = -1;
        for (let i = 0; i < count; i++, at++) {
          const j = positions[at]!;
          if (j >= length || j <= previous) {
            throw new RangeError(
              `Cannot decode a sparseLoco code: index ${j} of chunk ${c} is outside 0..${
                length - 1
              } or out of order`,
            );
          }
          previous = j;
          const value = levels === null ? floats[at]! : levelValue(levels[at]!, floats[c]!, bits);
          target[start + j] = target[start + j]! + scale * value;
        }
      }
    },
  };
}

/**
 * The `sparseLoco({ tau, k, chunk, bits, beta, lr })` outer algorithm (Sarfi et al. 2025). State,
 * float64: the global model `θ = x_0` (the same on every worker) and this worker's error feedback
 * `e = 0`. After step `k` with `(k + 1) mod tau == 0`: `e = β e + (θ − x)` (`x = base.model()`,
 * the de-biased `z_i` for sgp); `code` = the codec's chunked top-k of `e`; `e −= decode(code)`;
 * every worker's code is all-gathered (phase `"outer"`) and decoded in rank order into a float64
 * sum; `θ −= lr · sum / n`; every worker restarts from `θ` (`base.setModel`). No outer momentum,
 * no buffer policy, and the inner learning rate is never used.
 *
 * @param node The `sparseLoco` node.
 * @param context The worker's communicator and `x_0`.
 * @returns The worker's outer algorithm; its buffers are `sparseLoco.global` and
 *   `sparseLoco.error` (float64); after a sync its metrics are `syncBytes` (payload bytes this
 *   worker sent, `(n − 1)` codes) and `outerResidualNorm` (`‖e‖₂` after the sync).
 */
export function sparseLocoOuter(node: SparseLocoNode, context: StepContext): OuterAlgorithm {
  const { comm } = context;
  const d = context.x0.length;
  const codec = sparseLocoCodec(node, d);
  const global = Float64Array.from(context.x0);
  const error = new Float64Array(d);
  let metrics: Readonly<Record<string, number>> = {};
  return {
    async afterStep(k, _lr, base) {
      metrics = {};
      if (!endsPeriod(k, node.tau)) return;
      const x = base.model();
      checkSameLength(global, x, "the worker's model");
      for (let t = 0; t < d; t++) error[t] = node.beta * error[t]! + (global[t]! - x[t]!);
      const code = codec.encode(error);
      codec.addDecoded(code, error, -1);
      const codes = await comm.allGather(code, "outer");
      const sum = new Float64Array(d);
      for (const each of codes) codec.addDecoded(each, sum);
      const n = codes.length;
      for (let t = 0; t < d; t++) global[t] = global[t]! - node.lr * (sum[t]! / n);
      base.setModel(Float32Array.from(global));
      let squares = 0;
      for (let t = 0; t < d; t++) squares += error[t]! * error[t]!;
      metrics = { syncBytes: (n - 1) * codec.codeBytes, outerResidualNorm: Math.sqrt(squares) };
    },
    metrics: () => metrics,
    buffers: () => [
      { name: "sparseLoco.global", data: global, momentum: false },
      { name: "sparseLoco.error", data: error, momentum: false },
    ],
    resetMomentum() {},
  };
}
