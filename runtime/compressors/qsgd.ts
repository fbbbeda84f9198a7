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
import { qsgdAddDecoded, qsgdEncode, qsgdLevelsJs, qsgdMean } from "../kernels/vector_kernels.ts";

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

/** Throws a `RangeError` unless `code` is exactly one code of `d` values at `levels` levels. */
function checkCodeLength(code: Uint8Array, d: number, levels: number, bucket: number): void {
  const expected = quantizedCodeBytes(d, levels, bucket);
  if (code.length !== expected) {
    throw new RangeError(
      `Cannot decode a QSGD code: it has ${code.length} bytes, expected ${expected}`,
    );
  }
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
  checkCodeLength(code, d, levels, bucket);
  const buckets = Math.ceil(d / bucket);
  const norms = bytesAsFloats(code.subarray(0, 4 * buckets));
  const signsAt = 4 * buckets;
  const levelsAt = signsAt + Math.ceil(d / 8);
  const width = levelBits(levels);
  // Up to 8 bits, eight values a turn in JavaScript (their levels fill whole bytes); wider levels
  // (above 255 levels) through the WebAssembly kernel where it runs, which copies the target in
  // and out of its memory but was measured faster there, or else a bit reader.
  if (width > 8) {
    const layout = { d, levels, bucket, buckets, width, signsAt, levelsAt };
    if (qsgdAddDecoded(code, layout, target, scale)) return;
  }
  const addLevels = width <= 8 ? addBucket : addBucketBits;
  for (let b = 0; b < buckets; b++) {
    const lo = b * bucket;
    const unit = scale * norms[b]! / levels;
    if (unit !== 0) {
      addLevels(code, signsAt, levelsAt, width, lo, Math.min(lo + bucket, d), unit, target);
    }
  }
}

/**
 * `target[j] += unit · (±level_j)` for `j` in `[lo, hi)`, the levels `width` bits each (any width
 * up to 16), read through a bit reader: an accumulator refilled a byte at a time, and the sign
 * byte read once per eight values. The product and sum are those of the one-value loop
 * (`_qsgd_reference.ts`).
 */
function addBucketBits(
  code: Uint8Array,
  signsAt: number,
  levelsAt: number,
  width: number,
  lo: number,
  hi: number,
  unit: number,
  target: Float32Array | Float64Array,
): void {
  const mask = (1 << width) - 1;
  const first = lo * width;
  let position = levelsAt + (first >>> 3);
  let bits = code[position++]! >>> (first & 7);
  let filled = 8 - (first & 7);
  let signs = code[signsAt + (lo >>> 3)]! >>> (lo & 7);
  for (let j = lo; j < hi; j++) {
    if ((j & 7) === 0) signs = code[signsAt + (j >>> 3)]!;
    while (filled < width) {
      bits |= code[position++]! << filled;
      filled += 8;
    }
    // `0 −`, not unary minus: −0 is not a small integer, and V8 would leave the fast path.
    const negative = 0 - (signs & 1);
    target[j] = target[j]! + unit * (((bits & mask) ^ negative) - negative);
    bits >>>= width;
    filled -= width;
    signs >>>= 1;
  }
}

/**
 * `target[j] += unit · (±level_j)` for `j` in `[lo, hi)`, the levels `width` bits each (up to 8):
 * a value's product and sum are those of the one-value loop (`_qsgd_reference.ts`). Values go one
 * at a time up to a whole sign byte and after the last, and between them eight a turn, sharing one
 * read of their sign byte and of their levels' bytes (which they fill whole), in a loop of its own
 * per layout (bytes, words, levels that straddle words): unrolled, each is 1.3–1.5× the speed of
 * one loop for all.
 */
function addBucket(
  code: Uint8Array,
  signsAt: number,
  levelsAt: number,
  width: number,
  lo: number,
  hi: number,
  unit: number,
  target: Float32Array | Float64Array,
): void {
  let j = lo;
  const head = Math.min(hi, (lo + 7) & ~7);
  for (; j < head; j++) addOne(code, signsAt, levelsAt, width, j, unit, target);
  const end = j + ((hi - j) & ~7);
  if (width === 8) addEightBits(code, signsAt, levelsAt, j, end, unit, target);
  else if (width <= 4) addWordLevels(code, signsAt, levelsAt, width, j, end, unit, target);
  else addStraddledLevels(code, signsAt, levelsAt, width, j, end, unit, target);
  for (j = end; j < hi; j++) addOne(code, signsAt, levelsAt, width, j, unit, target);
}

/** {@linkcode addBucket}'s eight a turn at 8 bits a level: each level a byte. */
function addEightBits(
  code: Uint8Array,
  signsAt: number,
  levelsAt: number,
  lo: number,
  end: number,
  unit: number,
  target: Float32Array | Float64Array,
): void {
  for (let j = lo; j < end; j += 8) {
    const s = code[signsAt + (j >>> 3)]!;
    const at = levelsAt + j;
    // `0 −`, not unary minus: −0 is not a small integer, and V8 would leave the fast path.
    let n: number;
    n = 0 - (s & 1);
    target[j] = target[j]! + unit * ((code[at]! ^ n) - n);
    n = 0 - ((s >>> 1) & 1);
    target[j + 1] = target[j + 1]! + unit * ((code[at + 1]! ^ n) - n);
    n = 0 - ((s >>> 2) & 1);
    target[j + 2] = target[j + 2]! + unit * ((code[at + 2]! ^ n) - n);
    n = 0 - ((s >>> 3) & 1);
    target[j + 3] = target[j + 3]! + unit * ((code[at + 3]! ^ n) - n);
    n = 0 - ((s >>> 4) & 1);
    target[j + 4] = target[j + 4]! + unit * ((code[at + 4]! ^ n) - n);
    n = 0 - ((s >>> 5) & 1);
    target[j + 5] = target[j + 5]! + unit * ((code[at + 5]! ^ n) - n);
    n = 0 - ((s >>> 6) & 1);
    target[j + 6] = target[j + 6]! + unit * ((code[at + 6]! ^ n) - n);
    n = 0 - ((s >>> 7) & 1);
    target[j + 7] = target[j + 7]! + unit * ((code[at + 7]! ^ n) - n);
  }
}

/** {@linkcode addBucket}'s eight a turn at 1 to 4 bits a level: the eight in one word. */
function addWordLevels(
  code: Uint8Array,
  signsAt: number,
  levelsAt: number,
  width: number,
  lo: number,
  end: number,
  unit: number,
  target: Float32Array | Float64Array,
): void {
  const mask = (1 << width) - 1;
  for (let j = lo; j < end; j += 8) {
    const s = code[signsAt + (j >>> 3)]!;
    const at = levelsAt + ((j * width) >>> 3);
    let w = code[at]!;
    if (width > 1) w |= code[at + 1]! << 8;
    if (width > 2) w |= code[at + 2]! << 16;
    if (width > 3) w |= code[at + 3]! << 24;
    let n: number;
    n = 0 - (s & 1);
    target[j] = target[j]! + unit * (((w & mask) ^ n) - n);
    n = 0 - ((s >>> 1) & 1);
    target[j + 1] = target[j + 1]! + unit * ((((w >>> 1 * width) & mask) ^ n) - n);
    n = 0 - ((s >>> 2) & 1);
    target[j + 2] = target[j + 2]! + unit * ((((w >>> 2 * width) & mask) ^ n) - n);
    n = 0 - ((s >>> 3) & 1);
    target[j + 3] = target[j + 3]! + unit * ((((w >>> 3 * width) & mask) ^ n) - n);
    n = 0 - ((s >>> 4) & 1);
    target[j + 4] = target[j + 4]! + unit * ((((w >>> 4 * width) & mask) ^ n) - n);
    n = 0 - ((s >>> 5) & 1);
    target[j + 5] = target[j + 5]! + unit * ((((w >>> 5 * width) & mask) ^ n) - n);
    n = 0 - ((s >>> 6) & 1);
    target[j + 6] = target[j + 6]! + unit * ((((w >>> 6 * width) & mask) ^ n) - n);
    n = 0 - ((s >>> 7) & 1);
    target[j + 7] = target[j + 7]! + unit * ((((w >>> 7 * width) & mask) ^ n) - n);
  }
}

/**
 * {@linkcode addBucket}'s eight a turn at 5, 6 or 7 bits a level: the first four bytes in
 * `low`, the rest in `high`, a level that straddles the two put together from both.
 */
function addStraddledLevels(
  code: Uint8Array,
  signsAt: number,
  levelsAt: number,
  width: number,
  lo: number,
  end: number,
  unit: number,
  target: Float32Array | Float64Array,
): void {
  const mask = (1 << width) - 1;
  for (let j = lo; j < end; j += 8) {
    const s = code[signsAt + (j >>> 3)]!;
    const at = levelsAt + ((j * width) >>> 3);
    const low = code[at]! | code[at + 1]! << 8 | code[at + 2]! << 16 | code[at + 3]! << 24;
    let high = code[at + 4]! | code[at + 5]! << 8;
    if (width > 5) high |= code[at + 6]! << 16;
    for (let k = 0; k < 8; k++) {
      const bit = k * width;
      const level = bit >= 32
        ? (high >>> (bit - 32)) & mask
        : ((low >>> bit) | (bit + width > 32 ? high << (32 - bit) : 0)) & mask;
      const n = 0 - ((s >>> k) & 1);
      target[j + k] = target[j + k]! + unit * ((level ^ n) - n);
    }
  }
}

/**
 * `target[j] += unit · (±level_j)` for one value, its level read at its bit offset (from the next
 * byte too where it goes on into it): the head and tail of {@linkcode addBucket}'s buckets.
 */
function addOne(
  code: Uint8Array,
  signsAt: number,
  levelsAt: number,
  width: number,
  j: number,
  unit: number,
  target: Float32Array | Float64Array,
): void {
  const bit = j * width;
  const at = levelsAt + (bit >>> 3);
  let bits = code[at]!;
  if ((bit & 7) + width > 8) bits |= code[at + 1]! << 8;
  const level = (bits >>> (bit & 7)) & ((1 << width) - 1);
  const negative = 0 - ((code[signsAt + (j >>> 3)]! >>> (j & 7)) & 1);
  target[j] = target[j]! + unit * ((level ^ negative) - negative);
}

/**
 * The mean of QSGD codes, `(1/n) Σ_i decode(code_i)`, as the compressed mean computes it (each
 * code added in turn to a float64 sum, the sum divided by `n` and rounded to float32 once), with
 * the WebAssembly kernel, which keeps the sum in its own memory (`Codec.meanOf`).
 *
 * @param codes The codes, each of `d` values.
 * @param d The vector length.
 * @param levels The number of levels `s` they were made with.
 * @param bucket Values per bucket.
 * @param n The divisor.
 * @returns A fresh float32 mean, or `undefined` where the JavaScript loops are selected (the
 * caller then decodes each code).
 * @throws {RangeError} When a code's length does not match.
 */
export function quantizedMean(
  codes: readonly Uint8Array[],
  d: number,
  levels: number,
  bucket: number,
  n: number,
): Float32Array | undefined {
  for (const code of codes) checkCodeLength(code, d, levels, bucket);
  return qsgdMean(codes, { d, levels, bucket, width: levelBits(levels) }, n) ?? undefined;
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
    meanOf: (codes, n) => quantizedMean(codes, d, node.levels, node.bucket, n),
    buffers: () => [],
  };
}
