/**
 * QSGD's decode in its plainest form: value by value, each level read bit by bit from the code
 * format `qsgd.ts` documents. The reference the tests hold `dequantizeInto` (whose loops read
 * eight values a turn, issue 23) to, bit for bit. Not part of the public API.
 *
 * @module
 */

import { bytesAsFloats } from "../comm/wire.ts";
import { levelBits, quantizedCodeBytes } from "./qsgd.ts";

/**
 * Adds `scale ×` the decoded code to `target`, value by value.
 *
 * @param code A code of `d` values.
 * @param d The vector length.
 * @param levels The number of levels `s` it was made with.
 * @param bucket Values per bucket.
 * @param target The vector to add to.
 * @param scale The factor.
 */
export function dequantizeIntoReference(
  code: Uint8Array,
  d: number,
  levels: number,
  bucket: number,
  target: Float32Array | Float64Array,
  scale: number,
): void {
  if (code.length !== quantizedCodeBytes(d, levels, bucket)) throw new RangeError("code length");
  const buckets = Math.ceil(d / bucket);
  const norms = bytesAsFloats(code.subarray(0, 4 * buckets));
  const signsAt = 4 * buckets;
  const levelsAt = signsAt + Math.ceil(d / 8);
  const width = levelBits(levels);
  for (let b = 0; b < buckets; b++) {
    const lo = b * bucket;
    const hi = Math.min(lo + bucket, d);
    const unit = scale * norms[b]! / levels;
    if (unit === 0) continue;
    for (let j = lo; j < hi; j++) {
      let level = 0;
      for (let k = 0; k < width; k++) {
        const bit = j * width + k;
        level |= ((code[levelsAt + (bit >>> 3)]! >>> (bit & 7)) & 1) << k;
      }
      const negative = -((code[signsAt + (j >>> 3)]! >>> (j & 7)) & 1);
      target[j] = target[j]! + unit * ((level ^ negative) - negative);
    }
  }
}
