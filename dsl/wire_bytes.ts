/**
 * Bytes on the wire of the collectives and encodings the kinds' traffic formulas are made of: a
 * ring all-reduce, an all-gather, bit-packed indices and quantized values. The plan explainer's
 * estimates count these payload bytes, not frame headers; the runtime counts the real bytes on
 * the socket.
 *
 * @module
 */

/** Bytes of one float32 value on the wire. */
export const FLOAT_BYTES = 4;

/**
 * Bytes one worker sends in a ring all-reduce of `count` floats: `2(n−1)/n · 4 · count`.
 *
 * @param count Floats reduced.
 * @param n Workers.
 * @returns Bytes, 0 for one worker.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ringAllReduceBytes } from "./wire_bytes.ts";
 * assert.ok(ringAllReduceBytes(10, 4) === 60);
 * ```
 */
export function ringAllReduceBytes(count: number, n: number): number {
  return n <= 1 ? 0 : 2 * (n - 1) / n * count * FLOAT_BYTES;
}

/**
 * Bytes one worker sends in an all-gather of `bytes` from every rank (a direct send to each
 * other rank).
 *
 * @param bytes This rank's bytes.
 * @param n Workers.
 * @returns `(n − 1) · bytes`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allGatherBytes } from "./wire_bytes.ts";
 * assert.ok(allGatherBytes(100, 4) === 300);
 * ```
 */
export function allGatherBytes(bytes: number, n: number): number {
  return (n - 1) * bytes;
}

/**
 * Bits per top-k index: enough for `0..d−1`, at least 1.
 *
 * @param d The vector length.
 * @returns `max(1, ⌈log2 d⌉)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { indexBits } from "./wire_bytes.ts";
 * assert.ok(indexBits(1024) === 10 && indexBits(1025) === 11 && indexBits(1) === 1);
 * ```
 */
export function indexBits(d: number): number {
  return Math.max(1, Math.ceil(Math.log2(d)));
}

/**
 * Bytes of a QSGD-style code: one float32 norm per bucket, a sign bit per value, and `levelBits`
 * bits per value for its level.
 *
 * @param levelBits Bits of each level (`⌈log2(s+1)⌉`; DQ-SGD's mean width at its budget).
 * @param bucket Values per bucket.
 * @param d Values.
 * @returns Bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { quantizedBytes } from "./wire_bytes.ts";
 * // 1024 values at 1 + 2 bits, two bucket norms:
 * assert.ok(quantizedBytes(2, 512, 1024) === 384 + 8);
 * ```
 */
export function quantizedBytes(levelBits: number, bucket: number, d: number): number {
  return Math.ceil(d / bucket) * FLOAT_BYTES + Math.ceil(d / 8) + Math.ceil(d * levelBits / 8);
}
