/**
 * Sketched SGD (docs/algorithms.md §3.3; Ivkin, Rothchild, Ullah, Braverman, Stoica, Arora,
 * "Communication-efficient distributed SGD with sketching", NeurIPS 2019): every worker
 * accumulates momentum and error locally, sends a count sketch of its accumulated error (sketches
 * are linear, so the all-reduce sums them), and every worker applies the same top-k of the
 * recovered sum, optionally after fetching the exact values of the heavy candidates.
 *
 * @module
 */

import type { SketchedSgdNode } from "../../dsl/plan.ts";
import type { StateBuffer } from "../state.ts";
import { topKIndices } from "./top_k.ts";
import type { ChannelOptions, CompressedChannel } from "./types.ts";

/** Mixes a 32-bit word (the murmur3 finaliser): a seeded hash for the buckets and signs. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The smaller of two numbers without a branch: `(a + b − |a − b|) / 2`. The counters' order is a
 * coin toss, which costs a branch (and `Math.min`'s own checks) a misprediction half the time.
 * For float32 values the arithmetic is exact in float64 while their magnitudes are within about
 * 2²⁹ of each other; beyond, the smaller is lost to the larger's rounding (of 10³⁰ and 1 it gives
 * 0), an error below 2⁻⁵³ of the larger.
 */
function lower(a: number, b: number): number {
  return 0.5 * (a + b - Math.abs(a - b));
}

/** The larger of two numbers without a branch (see {@linkcode lower}). */
function upper(a: number, b: number): number {
  return 0.5 * (a + b + Math.abs(a - b));
}

/** The median of three numbers. */
function median3(a: number, b: number, c: number): number {
  return upper(lower(a, b), lower(upper(a, b), c));
}

/**
 * The median of five numbers: of the two pairs, the larger minimum and the smaller maximum
 * bracket the median with the fifth value.
 */
function median5(a: number, b: number, c: number, d: number, e: number): number {
  return median3(upper(lower(a, b), lower(c, d)), lower(upper(a, b), upper(c, d)), e);
}

/** The greatest common divisor. */
function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Slots of sketches narrower than this fit 16 bits: a 15-bit bucket and the sign bit. */
const NARROW_COLS = 0x8000;

/**
 * `+1` and `−1` by sign bit, for the estimates: multiplying by a loaded `±1` costs one load where
 * `1 − 2·bit` costs an integer-to-float conversion and two operations per counter.
 */
const SIGNS = Float64Array.of(1, -1);

/** The value being added and its negation, by sign bit (the update's scratch). */
const SIGNED = new Float64Array(2);

/** A sketch's slots: per coordinate and row, the bucket with the sign in the top bit. */
type Slots = Uint16Array | Uint32Array;

/**
 * Slots already built, by shape and seed: the workers of one process (the memory transport, the
 * tests) share them rather than each holding `rows · d` of its own. Weak, so a finished run's
 * slots are collected.
 */
const slotCache = new Map<string, WeakRef<Slots>>();

/**
 * The slots of a sketch: for coordinate `j` and row `r`, at `j · rows + r` (one coordinate's rows
 * side by side, so a pass over the coordinates reads them in order), the bucket `h_r(j)` with the
 * sign `σ_r(j) = −1` as the top bit (bit 15 of a `Uint16Array` when `cols ≤ 2¹⁵`, bit 31 of a
 * `Uint32Array` otherwise). The hashes are those of the reference (`_count_sketch_reference.ts`).
 */
function slotsFor(rows: number, cols: number, d: number, seed: number): Slots {
  const cacheKey = `${rows}×${cols}×${d}@${seed}`;
  const cached = slotCache.get(cacheKey)?.deref();
  if (cached !== undefined) return cached;
  const narrow = cols <= NARROW_COLS;
  const slots = narrow ? new Uint16Array(rows * d) : new Uint32Array(rows * d);
  const signShift = narrow ? 15 : 31;
  for (let r = 0; r < rows; r++) {
    const key = mix(seed ^ mix(r + 1));
    let a = 1 + (mix(key ^ 0x51ed27) % Math.max(1, cols - 1));
    while (gcd(a, cols) !== 1) a++;
    const b = mix(key ^ 0x2545f491) % cols;
    for (let j = 0; j < d; j++) {
      const bucket = cols >= d ? (a * j + b) % cols : mix(key ^ mix(j)) % cols;
      const negative = mix(key ^ mix(j ^ 0x6a09e667)) >>> 31;
      slots[j * rows + r] = bucket | (negative << signShift);
    }
  }
  slotCache.set(cacheKey, new WeakRef(slots));
  return slots;
}

/**
 * A count sketch of `rows × cols` counters for vectors of `d` values, with hashes every worker
 * derives from the same seed: row `r` sends coordinate `j` to bucket `h_r(j)` with sign `σ_r(j)`.
 * With `cols ≥ d` each row's buckets are a permutation (`h_r(j) = (a_r j + b_r) mod cols`, `a_r`
 * coprime to `cols`), so the sketch has no collisions; otherwise the buckets come from a seeded
 * mixing hash.
 *
 * Bucket and sign are computed once per sketch shape and seed and kept, `rows · d` slots of 2
 * bytes (4 when `cols > 2¹⁵`), shared by the update, the estimates and every sketch of the same
 * shape in the process. The update and the estimates make one pass over the coordinates, each
 * coordinate's rows side by side; every counter still adds its coordinates in index order, so
 * the sums are the float32 sums of the row-by-row reference, bit for bit.
 */
export class CountSketch {
  readonly rows: number;
  readonly cols: number;
  readonly d: number;
  /** Per coordinate, then row: the bucket, with the sign in the top bit ({@linkcode slotsFor}). */
  readonly #slots: Slots;
  /** Where the sign bit is: 15 or 31. */
  readonly #signShift: number;
  /** The bucket's bits. */
  readonly #bucketMask: number;

  /**
   * @param rows Rows (independent hashes).
   * @param cols Counters per row.
   * @param d The vector length.
   * @param seed The shared seed.
   */
  constructor(rows: number, cols: number, d: number, seed: number) {
    this.rows = rows;
    this.cols = cols;
    this.d = d;
    this.#slots = slotsFor(rows, cols, d, seed);
    this.#signShift = cols <= NARROW_COLS ? 15 : 31;
    this.#bucketMask = cols <= NARROW_COLS ? 0x7fff : 0x7fffffff;
  }

  /**
   * Adds the sketch of `values` to `table` (`rows × cols`, row by row).
   *
   * @param values A vector of `d` values.
   * @param table The counters, updated in place.
   */
  accumulate(values: Float32Array, table: Float32Array): void {
    const { rows, cols, d } = this;
    const slots = this.#slots, shift = this.#signShift, mask = this.#bucketMask;
    if (rows === 5) accumulate5(slots, shift, mask, cols, d, values, table);
    else if (rows === 3) accumulate3(slots, shift, mask, cols, d, values, table);
    else {
      const signed = SIGNED;
      const size = rows * cols;
      for (let j = 0, o = 0; j < d; j++) {
        signed[0] = values[j]!;
        signed[1] = -values[j]!;
        for (let base = 0; base < size; base += cols, o++) {
          const slot = slots[o]!;
          const at = base + (slot & mask);
          table[at] = table[at]! + signed[slot >>> shift]!;
        }
      }
    }
  }

  /**
   * The estimate of every coordinate from a table: the median over rows of `σ_r(j) S[r, h_r(j)]`.
   *
   * @param table The counters.
   * @returns `d` estimates.
   */
  estimates(table: Float32Array): Float32Array {
    const { rows, cols, d } = this;
    const slots = this.#slots, shift = this.#signShift, mask = this.#bucketMask;
    const signs = SIGNS;
    const out = new Float32Array(d);
    const c2 = 2 * cols, c3 = 3 * cols, c4 = 4 * cols;
    if (rows === 1) {
      for (let j = 0; j < d; j++) {
        const slot = slots[j]!;
        out[j] = signs[slot >>> shift]! * table[slot & mask]!;
      }
    } else if (rows === 3) {
      for (let j = 0, o = 0; j < d; j++, o += 3) {
        const s0 = slots[o]!, s1 = slots[o + 1]!, s2 = slots[o + 2]!;
        out[j] = median3(
          signs[s0 >>> shift]! * table[s0 & mask]!,
          signs[s1 >>> shift]! * table[cols + (s1 & mask)]!,
          signs[s2 >>> shift]! * table[c2 + (s2 & mask)]!,
        );
      }
    } else if (rows === 5) {
      for (let j = 0, o = 0; j < d; j++, o += 5) {
        const s0 = slots[o]!, s1 = slots[o + 1]!, s2 = slots[o + 2]!;
        const s3 = slots[o + 3]!, s4 = slots[o + 4]!;
        out[j] = median5(
          signs[s0 >>> shift]! * table[s0 & mask]!,
          signs[s1 >>> shift]! * table[cols + (s1 & mask)]!,
          signs[s2 >>> shift]! * table[c2 + (s2 & mask)]!,
          signs[s3 >>> shift]! * table[c3 + (s3 & mask)]!,
          signs[s4 >>> shift]! * table[c4 + (s4 & mask)]!,
        );
      }
    } else {
      this.#sortedMedians(table, out);
    }
    return out;
  }

  /**
   * The estimates of a float64 table (FetchSGD's error sketch, §3.5), at full precision: the
   * median over rows by `Math.min`/`Math.max` (exact for any values, where the branchless
   * arithmetic of {@linkcode CountSketch.estimates} would round float64 sums), the mean of the
   * two middle values for an even number of rows.
   *
   * @param table The counters, `rows × cols`.
   * @returns `d` estimates.
   */
  estimates64(table: Float64Array): Float64Array {
    const { rows, cols, d } = this;
    const slots = this.#slots, shift = this.#signShift, mask = this.#bucketMask;
    const signs = SIGNS;
    const out = new Float64Array(d);
    const c2 = 2 * cols, c3 = 3 * cols, c4 = 4 * cols;
    if (rows === 1) {
      for (let j = 0; j < d; j++) {
        const slot = slots[j]!;
        out[j] = signs[slot >>> shift]! * table[slot & mask]!;
      }
    } else if (rows === 3) {
      for (let j = 0, o = 0; j < d; j++, o += 3) {
        const s0 = slots[o]!, s1 = slots[o + 1]!, s2 = slots[o + 2]!;
        out[j] = exactMedian3(
          signs[s0 >>> shift]! * table[s0 & mask]!,
          signs[s1 >>> shift]! * table[cols + (s1 & mask)]!,
          signs[s2 >>> shift]! * table[c2 + (s2 & mask)]!,
        );
      }
    } else if (rows === 5) {
      for (let j = 0, o = 0; j < d; j++, o += 5) {
        const s0 = slots[o]!, s1 = slots[o + 1]!, s2 = slots[o + 2]!;
        const s3 = slots[o + 3]!, s4 = slots[o + 4]!;
        const a = signs[s0 >>> shift]! * table[s0 & mask]!;
        const b = signs[s1 >>> shift]! * table[cols + (s1 & mask)]!;
        const c = signs[s2 >>> shift]! * table[c2 + (s2 & mask)]!;
        const e = signs[s3 >>> shift]! * table[c3 + (s3 & mask)]!;
        // As median5: the larger of the pairs' minima, the smaller of their maxima, the fifth.
        out[j] = exactMedian3(
          Math.max(Math.min(a, b), Math.min(c, e)),
          Math.min(Math.max(a, b), Math.max(c, e)),
          signs[s4 >>> shift]! * table[c4 + (s4 & mask)]!,
        );
      }
    } else {
      this.#sortedMedians(table, out);
    }
    return out;
  }

  /**
   * Medians over rows by sorting each coordinate's signed counters (any number of rows; for an
   * even number, the mean of the two middle values).
   */
  #sortedMedians(table: Float32Array | Float64Array, out: Float32Array | Float64Array): void {
    const { rows, cols, d } = this;
    const slots = this.#slots, shift = this.#signShift, mask = this.#bucketMask;
    const column = new Float64Array(rows);
    for (let j = 0, o = 0; j < d; j++) {
      for (let r = 0; r < rows; r++, o++) {
        const slot = slots[o]!;
        column[r] = SIGNS[slot >>> shift]! * table[r * cols + (slot & mask)]!;
      }
      column.sort();
      out[j] = rows % 2 === 1
        ? column[rows >>> 1]!
        : (column[rows / 2 - 1]! + column[rows / 2]!) / 2;
    }
  }

  /**
   * Zeroes, in every row, the bucket each of `coordinates` hashes to (FetchSGD removes what it
   * applied from its sketches, §3.5). Other coordinates sharing those buckets lose their share.
   *
   * @param coordinates Coordinates in `[0, d)`.
   * @param table The counters, `rows × cols`, updated in place.
   */
  clearBuckets(coordinates: ArrayLike<number>, table: Float32Array | Float64Array): void {
    const { rows, cols } = this;
    const slots = this.#slots, mask = this.#bucketMask;
    for (let i = 0; i < coordinates.length; i++) {
      const o = coordinates[i]! * rows;
      for (let r = 0; r < rows; r++) table[r * cols + (slots[o + r]! & mask)] = 0;
    }
  }
}

/**
 * The update of a 5-row sketch, unrolled: one value, five counters. Each counter adds in float32
 * (a float64 sum of two float32 values, rounded by the store, is the float32 sum). The value and
 * its negation are written once per coordinate into {@linkcode SIGNED} and each row loads the one
 * its sign bit picks: `v + (−v)`'s bits are `v + (−1)·v`'s (for a NaN, only its sign bit may
 * differ), and one load per counter costs less than a multiplication by a loaded `±1`.
 */
function accumulate5(
  slots: Slots,
  shift: number,
  mask: number,
  cols: number,
  d: number,
  values: Float32Array,
  table: Float32Array,
): void {
  const signed = SIGNED;
  const c2 = 2 * cols, c3 = 3 * cols, c4 = 4 * cols;
  for (let j = 0, o = 0; j < d; j++, o += 5) {
    const value = values[j]!;
    signed[0] = value;
    signed[1] = -value;
    let slot = slots[o]!;
    let at = slot & mask;
    table[at] = table[at]! + signed[slot >>> shift]!;
    slot = slots[o + 1]!;
    at = cols + (slot & mask);
    table[at] = table[at]! + signed[slot >>> shift]!;
    slot = slots[o + 2]!;
    at = c2 + (slot & mask);
    table[at] = table[at]! + signed[slot >>> shift]!;
    slot = slots[o + 3]!;
    at = c3 + (slot & mask);
    table[at] = table[at]! + signed[slot >>> shift]!;
    slot = slots[o + 4]!;
    at = c4 + (slot & mask);
    table[at] = table[at]! + signed[slot >>> shift]!;
  }
}

/** The update of a 3-row sketch, unrolled (see {@linkcode accumulate5}). */
function accumulate3(
  slots: Slots,
  shift: number,
  mask: number,
  cols: number,
  d: number,
  values: Float32Array,
  table: Float32Array,
): void {
  const signed = SIGNED;
  const c2 = 2 * cols;
  for (let j = 0, o = 0; j < d; j++, o += 3) {
    const value = values[j]!;
    signed[0] = value;
    signed[1] = -value;
    let slot = slots[o]!;
    let at = slot & mask;
    table[at] = table[at]! + signed[slot >>> shift]!;
    slot = slots[o + 1]!;
    at = cols + (slot & mask);
    table[at] = table[at]! + signed[slot >>> shift]!;
    slot = slots[o + 2]!;
    at = c2 + (slot & mask);
    table[at] = table[at]! + signed[slot >>> shift]!;
  }
}

/** The median of three numbers by `Math.min`/`Math.max`: exact for any float64 values. */
function exactMedian3(a: number, b: number, c: number): number {
  return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
}

/**
 * The compressed channel of Sketched SGD, for the `allReduce` base (§3.3). Per step, with `g_i`
 * this worker's gradient: `u_i = ρ u_i + g_i`; `v_i = v_i + u_i`; all-reduce the sketches
 * `S = Σ_i sketch(v_i)` (phase `compressed`); with `p2 > 0` the `p2·k` coordinates of largest
 * estimated magnitude are candidates, their exact values `Σ_i v_i[H]` are all-reduced too, and
 * `Δ` keeps the `k` largest of those; without, `Δ` is the top `k` of the estimates. Every worker
 * zeroes `u_i` and `v_i` on the support of `Δ` and the base applies `x −= γ Δ / n` (the channel
 * returns `Δ / n`; `n` counts the members, the survivors of an elastic run). Top-k selections never sort all `d` values (quickselect).
 *
 * @param node The `sketchedSgd` node.
 * @param options The vector length, the communicator and the plan seed (the shared hashes).
 * @returns The channel; its buffers are `sketchedSgd.momentum` (`u`) and `sketchedSgd.error`
 *   (`v`), and it reports `residualNorm`, `‖v_i‖₂`.
 */
export function sketchedSgdChannel(
  node: SketchedSgdNode,
  options: ChannelOptions,
): CompressedChannel {
  const { d, comm, seed } = options;
  const sketch = new CountSketch(node.rows, node.cols, d, seed);
  const momentum = new Float32Array(d);
  const error = new Float32Array(d);
  const buffers: StateBuffer[] = [
    { name: "sketchedSgd.momentum", data: momentum, momentum: false, perWorker: true },
    { name: "sketchedSgd.error", data: error, momentum: false, perWorker: true },
  ];
  const k = Math.min(node.k, d);
  const candidates = Math.min(d, Math.ceil(node.p2 * node.k));
  return {
    async mean(gradient) {
      if (gradient.length !== d) {
        throw new RangeError(`Cannot compress: ${gradient.length} values, expected ${d}`);
      }
      for (let j = 0; j < d; j++) {
        momentum[j] = node.rho * momentum[j]! + gradient[j]!;
        error[j] = error[j]! + momentum[j]!;
      }
      const table = new Float32Array(node.rows * node.cols);
      sketch.accumulate(error, table);
      const summed = await comm.allReduceSumInPlace(table, "compressed");
      const estimates = sketch.estimates(summed);
      let support: Uint32Array;
      let values: Float32Array;
      if (node.p2 > 0) {
        const heavy = topKIndices(estimates, candidates);
        const exact = Float32Array.from(heavy, (j) => error[j]!);
        const sums = await comm.allReduceSumInPlace(exact, "compressed");
        const chosen = topKIndices(sums, k);
        support = Uint32Array.from(chosen, (i) => heavy[i]!);
        values = Float32Array.from(chosen, (i) => sums[i]!);
      } else {
        support = topKIndices(estimates, k);
        values = Float32Array.from(support, (j) => estimates[j]!);
      }
      const mean = new Float32Array(d);
      for (let i = 0; i < support.length; i++) {
        const j = support[i]!;
        mean[j] = values[i]! / comm.members.length;
        momentum[j] = 0;
        error[j] = 0;
      }
      return mean;
    },
    metrics() {
      let squares = 0;
      for (let j = 0; j < d; j++) squares += error[j]! * error[j]!;
      return { residualNorm: Math.sqrt(squares) };
    },
    buffers: () => buffers,
    resetMomentum() {},
  };
}
