/**
 * Top-k sparsification (docs/algorithms.md §3.4): keep the `k` values of largest magnitude.
 * Usually wrapped in error feedback (the `topK` node's default), which sends later what is not
 * sent now.
 *
 * Wire format of one code: the `k` kept values as float32 (little-endian), then their indices
 * in ascending order, bit-packed at `⌈log2 d⌉` bits each, least significant bit first; in all
 * `4k + ⌈k·⌈log2 d⌉/8⌉` bytes.
 *
 * @module
 */

import type { TopKNode } from "../../dsl/plan.ts";
import { indexBits } from "../../dsl/traits.ts";
import { bytesAsFloats } from "../comm/wire.ts";
import type { CodecCore, CompressorOptions } from "./types.ts";
import { packBits, packedBytes, unpackBits } from "./_bits.ts";

/**
 * The `index`-th smallest value of `a` (0-based), by quickselect with a three-way partition,
 * so runs of equal values (the zeros of a sparse vector) cost one pass. Reorders `a`.
 */
function nthSmallest(a: Float32Array | Float64Array, index: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!, y = a[mid]!, z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
    let lt = lo;
    let i = lo;
    let gt = hi;
    while (i <= gt) {
      const value = a[i]!;
      if (value < pivot) {
        a[i++] = a[lt]!;
        a[lt++] = value;
      } else if (value > pivot) {
        a[i] = a[gt]!;
        a[gt--] = value;
      } else {
        i++;
      }
    }
    // a[lo..lt) < pivot, a[lt..gt] == pivot, a(gt..hi] > pivot.
    if (index < lt) hi = lt - 1;
    else if (index > gt) lo = gt + 1;
    else return pivot;
  }
  return a[lo]!;
}

/**
 * The indices of the `k` values of largest magnitude, in ascending order; among equal
 * magnitudes the lower indices are kept. Runs in expected `O(d)` (a quickselect finds the k-th
 * largest magnitude, two passes collect the indices): it never sorts all `d` values.
 *
 * @param values The vector (float64 values are compared at full precision: FetchSGD's estimates).
 * @param k How many to keep (all when `k ≥ d`).
 * @returns `min(k, d)` indices, ascending.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topKIndices } from "./top_k.ts";
 *
 * assert.deepEqual([...topKIndices(Float32Array.of(0.5, -3, 2, 0, -2), 2)], [1, 2]);
 * // A tie at the threshold keeps the lower index.
 * assert.deepEqual([...topKIndices(Float32Array.of(1, -1, 1), 2)], [0, 1]);
 * ```
 */
export function topKIndices(values: Float32Array | Float64Array, k: number): Uint32Array {
  const d = values.length;
  if (k >= d) return Uint32Array.from({ length: d }, (_, j) => j);
  const chosen = new Uint32Array(Math.max(0, k));
  if (k <= 0) return chosen;
  const magnitudes = values instanceof Float64Array ? new Float64Array(d) : new Float32Array(d);
  for (let j = 0; j < d; j++) magnitudes[j] = Math.abs(values[j]!);
  const threshold = nthSmallest(magnitudes, d - k);
  let above = 0;
  for (let j = 0; j < d; j++) if (Math.abs(values[j]!) > threshold) above++;
  let ties = k - above;
  let count = 0;
  for (let j = 0; j < d && count < k; j++) {
    const magnitude = Math.abs(values[j]!);
    if (magnitude > threshold) chosen[count++] = j;
    else if (magnitude === threshold && ties > 0) {
      chosen[count++] = j;
      ties--;
    }
  }
  return chosen;
}

/**
 * The top-k codec for vectors of `d` values.
 *
 * @param node The `topK` node (`k ≤ d`, as the validator checks).
 * @param options The vector length `d`.
 * @returns The codec's encoder and decoder.
 * @example Encode, then decode into a zero vector
 * ```ts
 * import assert from "node:assert/strict";
 * import { topKCodec } from "./top_k.ts";
 * import { topK } from "../../dsl/compressors/mod.ts";
 * import { randomStream } from "../random.ts";
 *
 * const codec = topKCodec(topK({ k: 2 }), { d: 5, steps: 1 });
 * const code = codec.encode(Float32Array.of(0.5, -3, 2, 0, -2), {
 *   step: 0,
 *   random: randomStream(0, "compress"),
 * });
 * assert.equal(code.length, 2 * 4 + 1); // two float32 values, two 3-bit indices
 * const decoded = new Float32Array(5);
 * codec.addDecoded(code, decoded, 1);
 * assert.deepEqual([...decoded], [0, -3, 2, 0, 0]);
 * ```
 */
export function topKCodec(node: TopKNode, { d }: CompressorOptions): CodecCore {
  const k = Math.min(node.k, d);
  const bits = indexBits(d);
  const valueBytes = 4 * k;
  const codeBytes = valueBytes + packedBytes(k, bits);
  return {
    encode(values) {
      if (values.length !== d) {
        throw new RangeError(`Cannot encode top-k: ${values.length} values, expected ${d}`);
      }
      const indices = topKIndices(values, k);
      const code = new Uint8Array(codeBytes);
      const kept = new Float32Array(code.buffer, 0, k);
      for (let i = 0; i < k; i++) kept[i] = values[indices[i]!]!;
      packBits(indices, bits, code, valueBytes);
      return code;
    },
    addDecoded(code, target, scale) {
      if (code.length !== codeBytes) {
        throw new RangeError(
          `Cannot decode top-k: the code has ${code.length} bytes, expected ${codeBytes}`,
        );
      }
      const kept = bytesAsFloats(code.subarray(0, valueBytes));
      const indices = unpackBits(code, bits, k, valueBytes);
      for (let i = 0; i < k; i++) {
        const j = indices[i]!;
        if (j >= d) throw new RangeError(`Cannot decode top-k: index ${j} is outside 0..${d - 1}`);
        target[j] = target[j]! + scale * kept[i]!;
      }
    },
    buffers: () => [],
  };
}
