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
 * {@linkcode nthSmallest} for magnitude keys. A copy rather than a third array type for the same
 * function: V8 then compiles each for the array types it sees, and the float64 selection
 * (FetchSGD's estimates) keeps its speed (in one same-run measurement it lost about a quarter
 * when the function also saw keys).
 */
function nthSmallestKey(a: Uint32Array, index: number): number {
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
    if (index < lt) hi = lt - 1;
    else if (index > gt) lo = gt + 1;
    else return pivot;
  }
  return a[lo]!;
}

/**
 * A float32's bits with the sign cleared: for every value but NaN these keys, compared as
 * unsigned integers, order as the magnitudes do (±0 both give 0; subnormals sit below the
 * normals; ∞ is `INFINITY_KEY`), and every NaN's key lies above `INFINITY_KEY`.
 */
const MAGNITUDE = 0x7fffffff;
const INFINITY_KEY = 0x7f800000;

/** Below this length the reference is as fast, and the sample would be much of the vector. */
const SMALLEST_FAST = 4096;
/**
 * The sample that guesses a bound just below the k-th largest magnitude: runs of `RUN`
 * neighbours (64 bytes, one or two cache lines) spread evenly over the vector, about a tenth of
 * the cache misses of as many single keys. `SAMPLE_RUNS` runs, or one per `SAMPLE_SPACING`
 * values on long vectors (a 256th of them), where a larger sample costs little beside the pass
 * and keeps the candidates closer to `k`.
 */
const RUN = 16;
const SAMPLE_RUNS = 256;
const SAMPLE_SPACING = 4096;

/** Which selection {@linkcode topKIndices} runs; see {@linkcode selectTopK}. */
let selection: TopKSelection = "fast";

/** `fast`: the selection on magnitude bits; `reference`: {@linkcode topKIndicesJs} always. */
export type TopKSelection = "fast" | "reference";

/**
 * Makes {@linkcode topKIndices} run the given selection in this process or Web Worker, so that a
 * whole run can be replayed with the reference to show that no parameter changes (tests), or the
 * two timed side by side (benchmarks). The default is `fast`.
 *
 * @param which The selection to run from now on.
 */
export function selectTopK(which: TopKSelection): void {
  selection = which;
}

/**
 * The indices of the `k` values of largest magnitude, in ascending order; among equal
 * magnitudes the lower indices are kept. Runs in `O(d)` and never sorts all `d` values.
 *
 * For float32 vectors it works on the magnitude bits (see `MAGNITUDE`): a sample (runs of
 * neighbours spread over the vector) gives a bound that a few more than `k` values reach, one pass
 * collects the indices above it and the first `k` equal to it, and an exact select among those
 * few finds the threshold. When the sample misled (too few reach the bound, or far too many lie
 * above it) or `k` is above about a tenth of `d`, a three-pass radix select over the bits does it
 * instead. Float64 vectors (FetchSGD's estimates, compared at full precision) take the same
 * sampled bound on their high 32 bits, and the reference's quickselect among the few that reach
 * it. All give exactly {@linkcode topKIndicesJs}'s indices, which vectors holding a NaN still take.
 *
 * @param values The vector.
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
  if (k <= 0) return new Uint32Array(Math.max(0, k));
  if (selection === "reference" || d < SMALLEST_FAST || !Number.isInteger(k)) {
    return topKIndicesJs(values, k);
  }
  if (values instanceof Float64Array) return float64TopK(values, k) ?? topKIndicesJs(values, k);
  const keys = new Uint32Array(values.buffer, values.byteOffset, d);
  return sampledTopK(keys, k) ?? radixTopK(keys, k) ?? topKIndicesJs(values, k);
}

/**
 * The fast path: the bound is the magnitude key that a few more than `k·size/d` sampled keys
 * reach (4 standard deviations of the sample count above it), so that at least `k` of the `d`
 * keys reach it unless the sample was very unlucky. One pass collects the indices above the bound
 * and the first `k` equal to it (a mostly-zero vector's bound is often 0, met by most values).
 * If `k` or more lie above it, the k-th largest key is one of those few; if fewer, it is the bound
 * itself, and the first of the equal ones make up the `k`.
 *
 * @returns The indices, or `undefined` when fewer than `k` reach the bound or far more lie above
 *   it, or a NaN is met: the caller then takes the radix select.
 */
function sampledTopK(keys: Uint32Array, k: number): Uint32Array | undefined {
  const d = keys.length;
  const sampled = sampleBound(keys, 1, 0, d, k);
  if (sampled === undefined) return undefined;
  const { sample, bound } = sampled;
  const size = sample.length;
  // A NaN in the sample could make the bound a NaN's key, which other NaNs fall below.
  if (bound > INFINITY_KEY) return undefined;
  let greater = 0;
  for (let i = 0; i < size; i++) if (sample[i]! > bound) greater++;
  const capacity = Math.min(d, Math.ceil(2 * d * greater / size) + 1024);
  const found = new Uint32Array(capacity);
  const equal = new Uint32Array(k);
  let n = 0;
  let ties = 0;
  for (let j = 0; j < d; j++) {
    const key = keys[j]! & MAGNITUDE;
    // One comparison for the many keys below the bound; the few at or above it sorted after.
    if (key >= bound) {
      if (key > bound) {
        if (n === capacity) return undefined;
        found[n++] = j;
      } else if (ties < k) equal[ties++] = j;
    }
  }
  if (n + ties < k) return undefined;
  // Every key left out is at most the bound, and so at most the n above it.
  const kept = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const key = keys[found[i]!]! & MAGNITUDE;
    if (key > INFINITY_KEY) return undefined;
    kept[i] = key;
  }
  if (n < k) return mergeAscending(found.subarray(0, n), equal.subarray(0, k - n));
  const threshold = nthSmallestKey(kept, n - k);
  let above = 0;
  for (let i = 0; i < n; i++) if (kept[i]! > threshold) above++;
  return collect(keys, found.subarray(0, n), k, threshold, k - above);
}

/**
 * The float64 path (FetchSGD's and Sketched SGD's estimates): the same sampled bound, taken on
 * coarse keys, the high 32 bits of each float64 with the sign cleared. Coarse keys order as the
 * magnitudes do except among values that share them, so the pass collects every index whose coarse
 * key reaches the bound (all values above the k-th largest magnitude, and at least `k` of them when
 * the sample did its job), and the reference's own steps finish among those few: its quickselect
 * on their magnitudes finds the k-th largest, then the indices above it and the first equal to it.
 * Every value left out has a smaller coarse key than every candidate, so a smaller magnitude,
 * and the result is the reference's for any vector without NaN.
 *
 * @returns The indices, or `undefined` when fewer than `k` reach the bound, far more do, or a
 *   NaN is met: the caller then takes the reference.
 */
function float64TopK(values: Float64Array, k: number): Uint32Array | undefined {
  const d = values.length;
  // Little-endian: word 2j + 1 is value j's high half (sign, exponent, top 20 mantissa bits).
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * d);
  const sampled = sampleBound(words, 2, 1, d, k);
  if (sampled === undefined) return undefined;
  const { sample, bound } = sampled;
  const size = sample.length;
  let reaching = 0;
  for (let i = 0; i < size; i++) if (sample[i]! >= bound) reaching++;
  const capacity = Math.min(d, Math.ceil(2 * d * reaching / size) + 1024);
  const found = new Uint32Array(capacity);
  let n = 0;
  for (let j = 0; j < d; j++) {
    if ((words[2 * j + 1]! & MAGNITUDE) >= bound) {
      if (n === capacity) return undefined;
      found[n++] = j;
    }
  }
  if (n < k) return undefined;
  const magnitudes = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const magnitude = Math.abs(values[found[i]!]!);
    if (magnitude !== magnitude) return undefined; // a NaN: only the reference says what it gives
    magnitudes[i] = magnitude;
  }
  return chooseAtThreshold(values, found.subarray(0, n), k, nthSmallest(magnitudes, n - k));
}

/**
 * The sampled bound of the fast paths: the magnitude key that a few more than `k·size/d` sampled
 * keys reach (4 standard deviations of the sample count above it). Key `j` is
 * `words[stride·j + offset]` with the sign cleared (a float32's bits, or a float64's high half).
 *
 * @returns The sample (reordered) and the bound, or `undefined` when `k` is too large a share of
 *   `d` for a sample to bound it.
 */
function sampleBound(
  words: Uint32Array,
  stride: number,
  offset: number,
  d: number,
  k: number,
): { sample: Uint32Array; bound: number } | undefined {
  // Fixed places: the result never depends on the sample, only the time does.
  const runs = Math.max(SAMPLE_RUNS, Math.floor(d / SAMPLE_SPACING));
  const size = runs * RUN;
  const sample = new Uint32Array(size);
  for (let run = 0; run < runs; run++) {
    const start = Math.floor(run * d / runs);
    for (let i = 0; i < RUN; i++) {
      sample[run * RUN + i] = words[stride * (start + i) + offset]! & MAGNITUDE;
    }
  }
  const expected = size * k / d;
  const rank = Math.ceil(expected + 4 * Math.sqrt(expected) + 4);
  if (rank > size / 8) return undefined;
  return { sample, bound: nthSmallestKey(sample, size - rank) };
}

/**
 * The `k` indices, ascending, whose magnitudes are above `threshold` (the k-th largest), and the
 * first equal to it that make up the `k`: the reference's last two passes, over `among`
 * (ascending indices, all the others below the threshold) or all of `values`.
 */
function chooseAtThreshold(
  values: Float32Array | Float64Array,
  among: Uint32Array | undefined,
  k: number,
  threshold: number,
): Uint32Array {
  const n = among ? among.length : values.length;
  let above = 0;
  for (let i = 0; i < n; i++) if (Math.abs(values[among ? among[i]! : i]!) > threshold) above++;
  let ties = k - above;
  const chosen = new Uint32Array(k);
  let count = 0;
  for (let i = 0; i < n && count < k; i++) {
    const j = among ? among[i]! : i;
    const magnitude = Math.abs(values[j]!);
    if (magnitude > threshold) chosen[count++] = j;
    else if (magnitude === threshold && ties > 0) {
      chosen[count++] = j;
      ties--;
    }
  }
  return chosen;
}

/** The union of two ascending index lists with no index in both, ascending. */
function mergeAscending(a: Uint32Array, b: Uint32Array): Uint32Array {
  const merged = new Uint32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  for (let m = 0; m < merged.length; m++) {
    merged[m] = j === b.length || (i < a.length && a[i]! < b[j]!) ? a[i++]! : b[j++]!;
  }
  return merged;
}

/**
 * The exact path for any float32 vector without NaN: a histogram of the high 15 bits of the
 * magnitude keys finds the bin of the k-th largest, a histogram of the low 16 bits within that
 * bin finds the key itself, and a third pass collects the indices.
 *
 * @returns The indices, or `undefined` when the vector holds a NaN.
 */
function radixTopK(keys: Uint32Array, k: number): Uint32Array | undefined {
  const d = keys.length;
  const high = new Uint32Array(1 << 15);
  for (let j = 0; j < d; j++) high[(keys[j]! & MAGNITUDE) >>> 16]!++;
  const infinityBin = INFINITY_KEY >>> 16;
  for (let bin = infinityBin + 1; bin < high.length; bin++) if (high[bin]! > 0) return undefined;
  if (high[infinityBin]! > 0) {
    for (let j = 0; j < d; j++) if ((keys[j]! & MAGNITUDE) > INFINITY_KEY) return undefined;
  }
  let above = 0;
  let bin = infinityBin;
  while (above + high[bin]! < k) above += high[bin--]!;
  const low = new Uint32Array(1 << 16);
  for (let j = 0; j < d; j++) {
    const key = keys[j]! & MAGNITUDE;
    if (key >>> 16 === bin) low[key & 0xffff]!++;
  }
  let lowBits = 0xffff;
  while (above + low[lowBits]! < k) above += low[lowBits--]!;
  return collect(keys, undefined, k, (bin << 16) | lowBits, k - above);
}

/**
 * The `k` indices, ascending, of the keys above `threshold` and the first `ties` equal to it,
 * as the reference's last pass picks them; over `among` (ascending indices) or all of `keys`.
 */
function collect(
  keys: Uint32Array,
  among: Uint32Array | undefined,
  k: number,
  threshold: number,
  ties: number,
): Uint32Array {
  const chosen = new Uint32Array(k);
  const n = among ? among.length : keys.length;
  let count = 0;
  for (let i = 0; i < n && count < k; i++) {
    const j = among ? among[i]! : i;
    const key = keys[j]! & MAGNITUDE;
    if (key > threshold) chosen[count++] = j;
    else if (key === threshold && ties > 0) {
      chosen[count++] = j;
      ties--;
    }
  }
  return chosen;
}

/**
 * The reference selection, which {@linkcode topKIndices} equals bit for bit and falls back to
 * for float64 vectors and vectors holding a NaN: a quickselect finds the k-th largest magnitude
 * on a copy of the magnitudes, then two passes collect the indices. Expected `O(d)`, but the
 * quickselect's data-dependent swaps make it about 20 times a copy's time.
 *
 * With a NaN the threshold depends on where the quickselect's pivots meet it (comparisons with
 * NaN are false), and fewer than `k` indices may come back; that is why the fast path keeps it.
 *
 * @param values The vector.
 * @param k How many to keep.
 * @returns `min(k, d)` indices, ascending.
 */
export function topKIndicesJs(values: Float32Array | Float64Array, k: number): Uint32Array {
  const d = values.length;
  if (k >= d) return Uint32Array.from({ length: d }, (_, j) => j);
  if (k <= 0) return new Uint32Array(Math.max(0, k));
  const magnitudes = values instanceof Float64Array ? new Float64Array(d) : new Float32Array(d);
  for (let j = 0; j < d; j++) magnitudes[j] = Math.abs(values[j]!);
  return chooseAtThreshold(values, undefined, k, nthSmallest(magnitudes, d - k));
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
