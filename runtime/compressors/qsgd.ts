/**
 * QSGD (docs/algorithms.md §3.1; Alistarh, Grubic, Li, Tomioka, Vojnovic, "QSGD:
 * communication-efficient SGD via gradient quantization and encoding", NeurIPS 2017): stochastic,
 * unbiased quantization of each bucket to `s` levels of its norm.
 *
 * Per bucket `v` (the last one may be shorter): `‖v‖₂` stored as float32 (`n`); each value gets
 * level `ℓ = ⌊s|v_j|/n⌋`, raised to `ℓ + 1` with probability `s|v_j|/n − ℓ`, and decodes to
 * `n · sign(v_j) · level / s`. Using the stored norm `n` in both directions keeps the code
 * unbiased exactly, not only up to the norm's rounding.
 *
 * Wire format of one code: the bucket norms as float32 (little-endian); then the signs, one bit
 * per value (the float32 sign bit: set for negative values and −0); then the levels,
 * `⌈log2(s+1)⌉` bits each; bits packed least significant first. In all
 * `4⌈d/bucket⌉ + ⌈d/8⌉ + ⌈d⌈log2(s+1)⌉/8⌉` bytes: a sign and a level per value, as the paper's
 * fixed-length code. Level widths that divide a byte are packed and read in place; others go
 * through a general bit packer. The random draws come from the step's stream of the worker, one
 * 32-bit draw per value in order, so a run repeats exactly.
 *
 * @module
 */

import type { QsgdNode } from "../../dsl/plan.ts";
import { bytesAsFloats } from "../comm/wire.ts";
import type { Random } from "../random.ts";
import type { CodecCore, CompressorOptions } from "./types.ts";
import { qsgdAddDecoded, qsgdEncode, qsgdLevelsJs } from "../kernels/vector_kernels.ts";

/**
 * Bits of one QSGD level: `⌈log2(s+1)⌉` (the sign travels apart, one bit per value).
 *
 * @param levels The number of levels `s`.
 * @returns `⌈log2(s + 1)⌉`.
 */
export function levelBits(levels: number): number {
  return Math.ceil(Math.log2(levels + 1));
}

/** Bytes of one code of `d` values at `levels` levels, in buckets of `bucket`. */
export function quantizedCodeBytes(d: number, levels: number, bucket: number): number {
  return 4 * Math.ceil(d / bucket) + Math.ceil(d / 8) + Math.ceil(d * levelBits(levels) / 8);
}

/** Packs `levels` at `width` bits each into `out` from byte `at`, least significant bit first. */
function packLevels(levels: Uint16Array, width: number, out: Uint8Array, at: number): void {
  const n = levels.length;
  if (width === 8) {
    out.set(levels, at);
    return;
  }
  if (width === 16) {
    for (let j = 0; j < n; j++) {
      out[at + 2 * j] = levels[j]! & 255;
      out[at + 2 * j + 1] = levels[j]! >>> 8;
    }
    return;
  }
  if (width === 4) {
    const pairs = n >>> 1;
    for (let p = 0; p < pairs; p++) out[at + p] = levels[2 * p]! | (levels[2 * p + 1]! << 4);
    if (n & 1) out[at + pairs] = levels[n - 1]!;
    return;
  }
  if (width === 2) {
    const quads = n >>> 2;
    for (let q = 0; q < quads; q++) {
      const j = 4 * q;
      out[at + q] = levels[j]! | (levels[j + 1]! << 2) | (levels[j + 2]! << 4) |
        (levels[j + 3]! << 6);
    }
    for (let j = 4 * quads; j < n; j++) {
      out[at + quads] = out[at + quads]! | (levels[j]! << (2 * (j & 3)));
    }
    return;
  }
  let acc = 0;
  let filled = 0;
  let position = at;
  for (let j = 0; j < n; j++) {
    acc |= levels[j]! << filled;
    filled += width;
    while (filled >= 8) {
      out[position++] = acc & 255;
      acc >>>= 8;
      filled -= 8;
    }
  }
  if (filled > 0) out[position] = acc & 255;
}

/** Reads `n` levels of `width` bits from `code` at byte `at` (the inverse of `packLevels`). */
function unpackLevels(code: Uint8Array, width: number, n: number, at: number): Uint16Array {
  const levels = new Uint16Array(n);
  if (width === 8) {
    levels.set(code.subarray(at, at + n));
    return levels;
  }
  if (width === 16) {
    for (let j = 0; j < n; j++) levels[j] = code[at + 2 * j]! | (code[at + 2 * j + 1]! << 8);
    return levels;
  }
  const mask = (1 << width) - 1;
  if (width === 4) {
    for (let j = 0; j < n; j++) levels[j] = (code[at + (j >>> 1)]! >>> ((j & 1) << 2)) & 15;
    return levels;
  }
  if (width === 2) {
    for (let j = 0; j < n; j++) levels[j] = (code[at + (j >>> 2)]! >>> ((j & 3) << 1)) & 3;
    return levels;
  }
  let acc = 0;
  let filled = 0;
  let position = at;
  for (let j = 0; j < n; j++) {
    while (filled < width) {
      acc |= code[position++]! << filled;
      filled += 8;
    }
    levels[j] = acc & mask;
    acc >>>= width;
    filled -= width;
  }
  return levels;
}

/**
 * Quantizes `values` to `levels` levels per bucket and packs the code (see the module).
 *
 * @param values The vector (not modified).
 * @param levels The number of levels `s` (1 to 65535).
 * @param bucket Values per bucket.
 * @param random The stream the rounding draws come from (one 32-bit word per value, in order).
 * @returns The code.
 * @example One bucket with a single non-zero value keeps it exactly
 * ```ts
 * import assert from "node:assert/strict";
 * import { dequantizeInto, quantize } from "./qsgd.ts";
 * import { randomStream } from "../random.ts";
 *
 * const code = quantize(Float32Array.of(0, -3, 0), 1, 512, randomStream(0, "x"));
 * const out = new Float64Array(3);
 * dequantizeInto(code, 3, 1, 512, out, 1);
 * assert.deepEqual([...out], [0, -3, 0]);
 * ```
 */
export function quantize(
  values: Float32Array,
  levels: number,
  bucket: number,
  random: Random,
): Uint8Array {
  const d = values.length;
  const buckets = Math.ceil(d / bucket);
  const code = new Uint8Array(quantizedCodeBytes(d, levels, bucket));
  const norms = new Float32Array(code.buffer, 0, buckets);
  const signs = code.subarray(4 * buckets, 4 * buckets + Math.ceil(d / 8));
  // The WebAssembly kernels where they run: bit-identical to the loops below, drawing the same
  // random words (runtime/kernels/vector_kernels.ts).
  if (qsgdEncode(values, levels, bucket, levelBits(levels), random, code)) return code;
  const chosen = qsgdLevelsJs(values, levels, bucket, random, norms);
  // Signs, eight to a byte, from the float32 sign bits: no comparison per value, and the
  // byte is built in a register. (A negative zero sets its bit; its level is 0 either way.)
  const words = new Uint32Array(values.buffer, values.byteOffset, d);
  const whole = d >>> 3;
  for (let byte = 0; byte < whole; byte++) {
    const j = byte << 3;
    signs[byte] = (words[j]! >>> 31) | (words[j + 1]! >>> 31) << 1 |
      (words[j + 2]! >>> 31) << 2 | (words[j + 3]! >>> 31) << 3 |
      (words[j + 4]! >>> 31) << 4 | (words[j + 5]! >>> 31) << 5 |
      (words[j + 6]! >>> 31) << 6 | (words[j + 7]! >>> 31) << 7;
  }
  for (let j = whole << 3; j < d; j++) signs[whole] = signs[whole]! | (words[j]! >>> 31) << (j & 7);
  packLevels(chosen, levelBits(levels), code, 4 * buckets + signs.length);
  return code;
}

/**
 * Adds `scale ×` the decoded code to `target` (the inverse of {@linkcode quantize}).
 *
 * @param code A code of `d` values.
 * @param d The vector length.
 * @param levels The number of levels `s` it was made with.
 * @param bucket Values per bucket.
 * @param target The vector to add to.
 * @param scale The factor.
 * @throws {RangeError} When the code's length does not match.
 */
export function dequantizeInto(
  code: Uint8Array,
  d: number,
  levels: number,
  bucket: number,
  target: Float32Array | Float64Array,
  scale: number,
): void {
  const expected = quantizedCodeBytes(d, levels, bucket);
  if (code.length !== expected) {
    throw new RangeError(
      `Cannot decode a QSGD code: it has ${code.length} bytes, expected ${expected}`,
    );
  }
  const buckets = Math.ceil(d / bucket);
  const norms = bytesAsFloats(code.subarray(0, 4 * buckets));
  const signsAt = 4 * buckets;
  const levelsAt = signsAt + Math.ceil(d / 8);
  const width = levelBits(levels);
  // Widths that divide a byte are read in place; the others are unpacked first, or decoded by a
  // WebAssembly kernel where it runs (bit-identical; measured slower than the in-place loop,
  // whose time copying the target in and out of the kernel's memory would exceed).
  const inPlace = 8 % width === 0;
  const layout = { d, levels, bucket, buckets, width, signsAt, levelsAt };
  if (!inPlace && qsgdAddDecoded(code, layout, target, scale)) return;
  const chosen = inPlace ? undefined : unpackLevels(code, width, d, levelsAt);
  const mask = (1 << width) - 1;
  for (let b = 0; b < buckets; b++) {
    const lo = b * bucket;
    const hi = Math.min(lo + bucket, d);
    const unit = scale * norms[b]! / levels;
    if (unit === 0) continue;
    for (let j = lo; j < hi; j++) {
      const bit = j * width;
      const level = chosen === undefined
        ? (code[levelsAt + (bit >>> 3)]! >>> (bit & 7)) & mask
        : chosen[j]!;
      // The sign bit as 0 or −1, applied to the integer level without a branch.
      const negative = -((code[signsAt + (j >>> 3)]! >>> (j & 7)) & 1);
      target[j] = target[j]! + unit * ((level ^ negative) - negative);
    }
  }
}

/**
 * The QSGD codec for vectors of `d` values.
 *
 * @param node The `qsgd` node (`levels`, `bucket`).
 * @param options The vector length `d`.
 * @returns The codec's encoder and decoder.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qsgdCodec } from "./qsgd.ts";
 * import { qsgd } from "../../dsl/compressors/mod.ts";
 * import { randomStream } from "../random.ts";
 *
 * const codec = qsgdCodec(qsgd({ bits: 2 }), { d: 1024, steps: 1 });
 * const code = codec.encode(new Float32Array(1024).fill(1), {
 *   step: 0,
 *   random: randomStream(0, "x"),
 * });
 * // Two norms, a sign bit and 2 level bits per value.
 * assert.equal(code.length, 2 * 4 + 1024 / 8 + 1024 * 2 / 8);
 * ```
 */
export function qsgdCodec(node: QsgdNode, { d }: CompressorOptions): CodecCore {
  return {
    encode(values, { random }) {
      if (values.length !== d) {
        throw new RangeError(`Cannot encode QSGD: ${values.length} values, expected ${d}`);
      }
      return quantize(values, node.levels, node.bucket, random);
    },
    addDecoded(code, target, scale) {
      dequantizeInto(code, d, node.levels, node.bucket, target, scale);
    },
    buffers: () => [],
  };
}
