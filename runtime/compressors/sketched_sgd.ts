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
import {
  type CountSketchKernel,
  countSketchKernel,
  NARROW_COLS,
  selectedSketchKernel,
  SKETCH_BLOCK,
} from "../kernels/count_sketch_kernels.ts";
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

/**
 * `+1` and `−1` by sign bit, for the estimates: multiplying by a loaded `±1` costs one load where
 * `1 − 2·bit` costs an integer-to-float conversion and two operations per counter.
 */
const SIGNS = Float64Array.of(1, -1);

/** The value being added and its negation, by sign bit (the update's scratch). */
const SIGNED = new Float64Array(2);

/** A sketch's slots: per coordinate and row, the bucket with the sign in the top bit. */
type Slots = Uint16Array | Uint32Array;

/** A sketch shape's slots, and the WebAssembly kernels over them where there are some. */
interface SlotSet {
  readonly slots: Slots;
  /** The kernel, whose memory holds the slots, or why there is none. */
  readonly kernel: CountSketchKernel | string;
}

/**
 * Slots already built, by shape and seed: the workers of one process (the memory transport, the
 * tests) share them rather than each holding `rows · d` of its own. Weak, so a finished run's
 * slots are collected.
 */
const slotCache = new Map<string, WeakRef<SlotSet>>();

/**
 * The slots of a sketch, blocked ({@linkcode SKETCH_BLOCK}): the coordinates in blocks of 4096
 * (the last may be shorter), and within a block of `n` coordinates starting at `start`, row
 * `r`'s slot of coordinate `j` at `start · rows + r · n + (j − start)`. A slot is the bucket
 * `h_r(j)` with the sign `σ_r(j) = −1` as the top bit (bit 15 of a `Uint16Array` when
 * `cols ≤ 2¹⁵`, bit 31 of a `Uint32Array` otherwise). The hashes are those of the reference
 * (`_count_sketch_reference.ts`). Narrow slots live in the WebAssembly kernel's memory where
 * WebAssembly SIMD runs, so the kernel and the JavaScript loops read one copy.
 */
function slotsFor(rows: number, cols: number, d: number, seed: number): SlotSet {
  const cacheKey = `${rows}×${cols}×${d}@${seed}`;
  const cached = slotCache.get(cacheKey)?.deref();
  if (cached !== undefined) return cached;
  const narrow = cols <= NARROW_COLS;
  const kernel = countSketchKernel(rows, cols, d);
  const slots = typeof kernel !== "string"
    ? kernel.slots
    : narrow
    ? new Uint16Array(rows * d)
    : new Uint32Array(rows * d);
  const signShift = narrow ? 15 : 31;
  for (let r = 0; r < rows; r++) {
    const key = mix(seed ^ mix(r + 1));
    let a = 1 + (mix(key ^ 0x51ed27) % Math.max(1, cols - 1));
    while (gcd(a, cols) !== 1) a++;
    const b = mix(key ^ 0x2545f491) % cols;
    for (let start = 0; start < d; start += SKETCH_BLOCK) {
      const n = Math.min(SKETCH_BLOCK, d - start);
      const row = start * rows + r * n - start;
      for (let j = start; j < start + n; j++) {
        const bucket = cols >= d ? (a * j + b) % cols : mix(key ^ mix(j)) % cols;
        const negative = mix(key ^ mix(j ^ 0x6a09e667)) >>> 31;
        slots[row + j] = bucket | (negative << signShift);
      }
    }
  }
  const set = { slots, kernel };
  slotCache.set(cacheKey, new WeakRef(set));
  return set;
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
 * shape in the process, in blocks of 4096 coordinates, row after row within a block. The update
 * and the float32 estimates of 3 or 5 rows run in WebAssembly (`count_sketch_kernels.ts`) where
 * the selected kernels are WebAssembly's and the slots are 16 bits, the update a row of a block
 * at a time; the JavaScript loops make one pass over a block's coordinates, each coordinate's rows
 * together. Either way every counter adds its coordinates in index order, so the sums are the
 * float32 sums of the row-by-row reference, bit for bit.
 */
export class CountSketch {
  readonly rows: number;
  readonly cols: number;
  readonly d: number;
  /** Blocked, the bucket with the sign in the top bit ({@linkcode slotsFor}). */
  readonly #slots: Slots;
  /** The WebAssembly kernels over the slots, or why there are none. */
  readonly #kernel: CountSketchKernel | string;
  /** Both, held so that the cache's weak reference lives as long as a sketch uses them. */
  readonly #shared: SlotSet;
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
    this.#shared = slotsFor(rows, cols, d, seed);
    this.#slots = this.#shared.slots;
    this.#kernel = this.#shared.kernel;
    this.#signShift = cols <= NARROW_COLS ? 15 : 31;
    this.#bucketMask = cols <= NARROW_COLS ? 0x7fff : 0x7fffffff;
  }

  /**
   * Which loop {@linkcode CountSketch.accumulate} runs now: `wasm-simd` when the selected kernels
   * are WebAssembly's and the slots are 16 bits, `js` otherwise.
   *
   * @returns The update's kernels.
   */
  get kernels(): "wasm-simd" | "js" {
    return selectedSketchKernel(this.#kernel) === null ? "js" : "wasm-simd";
  }

  /**
   * Which loop {@linkcode CountSketch.estimates} runs now: `wasm-simd` as for the update, for 3
   * or 5 rows (the kernel's median networks), `js` otherwise.
   *
   * @returns The estimates' kernels.
   */
  get estimatesKernels(): "wasm-simd" | "js" {
    return selectedSketchKernel(this.#kernel)?.hasMedians ? "wasm-simd" : "js";
  }

  /**
   * Adds the sketch of `values` to `table` (`rows × cols`, row by row), with the selected kernels
   * (`kernelSelection()`, `runtime/kernels/vector_kernels.ts`): bit for bit the same either way.
   *
   * @param values A vector of `d` values.
   * @param table The counters, updated in place.
   */
  accumulate(values: Float32Array, table: Float32Array): void {
    const kernel = selectedSketchKernel(this.#kernel);
    if (kernel !== null) kernel.add(values, table);
    else this.accumulateJs(values, table);
  }

  /**
   * {@linkcode CountSketch.accumulate} in JavaScript whatever the selected kernels: the fallback,
   * and what the tests and `bench/sketch_bench.ts` hold the kernel to.
   *
   * @param values A vector of `d` values.
   * @param table The counters, updated in place.
   */
  accumulateJs(values: Float32Array, table: Float32Array): void {
    const { rows, cols, d } = this;
    const slots = this.#slots, shift = this.#signShift, mask = this.#bucketMask;
    for (let start = 0; start < d; start += SKETCH_BLOCK) {
      const n = Math.min(SKETCH_BLOCK, d - start);
      const block: Block = { slots, at: start * rows, n, start };
      if (rows === 5) accumulate5(block, shift, mask, cols, values, table);
      else if (rows === 3) accumulate3(block, shift, mask, cols, values, table);
      else accumulateRows(block, rows, shift, mask, cols, values, table);
    }
  }

  /**
   * The estimate of every coordinate from a table: the median over rows of `σ_r(j) S[r, h_r(j)]`,
   * with the selected kernels (WebAssembly for 3 and 5 rows): bit for bit the same either way.
   *
   * @param table The counters.
   * @returns `d` estimates.
   */
  estimates(table: Float32Array): Float32Array {
    const kernel = selectedSketchKernel(this.#kernel);
    if (kernel === null || !kernel.hasMedians) return this.estimatesJs(table);
    const out = new Float32Array(this.d);
    kernel.medians(table, out);
    return out;
  }

  /**
   * {@linkcode CountSketch.estimates} in JavaScript whatever the selected kernels: the fallback,
   * and what the tests and `bench/sketch_bench.ts` hold the kernel to.
   *
   * @param table The counters.
   * @returns `d` estimates.
   */
  estimatesJs(table: Float32Array): Float32Array {
    const { rows, cols, d } = this;
    const slots = this.#slots, shift = this.#signShift, mask = this.#bucketMask;
    const signs = SIGNS;
    const out = new Float32Array(d);
    const c2 = 2 * cols, c3 = 3 * cols, c4 = 4 * cols;
    if (rows !== 1 && rows !== 3 && rows !== 5) {
      this.#sortedMedians(table, out);
      return out;
    }
    for (let start = 0; start < d; start += SKETCH_BLOCK) {
      const n = Math.min(SKETCH_BLOCK, d - start), end = start + n;
      // `o + j` is coordinate j's slot in row 0 of the block, `o + j + n·r` in row r.
      const o = start * rows - start;
      if (rows === 1) {
        for (let j = start; j < end; j++) {
          const slot = slots[o + j]!;
          out[j] = signs[slot >>> shift]! * table[slot & mask]!;
        }
      } else if (rows === 3) {
        const o1 = o + n, o2 = o1 + n;
        for (let j = start; j < end; j++) {
          const s0 = slots[o + j]!, s1 = slots[o1 + j]!, s2 = slots[o2 + j]!;
          out[j] = median3(
            signs[s0 >>> shift]! * table[s0 & mask]!,
            signs[s1 >>> shift]! * table[cols + (s1 & mask)]!,
            signs[s2 >>> shift]! * table[c2 + (s2 & mask)]!,
          );
        }
      } else {
        const o1 = o + n, o2 = o1 + n, o3 = o2 + n, o4 = o3 + n;
        for (let j = start; j < end; j++) {
          const s0 = slots[o + j]!, s1 = slots[o1 + j]!, s2 = slots[o2 + j]!;
          const s3 = slots[o3 + j]!, s4 = slots[o4 + j]!;
          out[j] = median5(
            signs[s0 >>> shift]! * table[s0 & mask]!,
            signs[s1 >>> shift]! * table[cols + (s1 & mask)]!,
            signs[s2 >>> shift]! * table[c2 + (s2 & mask)]!,
            signs[s3 >>> shift]! * table[c3 + (s3 & mask)]!,
            signs[s4 >>> shift]! * table[c4 + (s4 & mask)]!,
          );
        }
      }
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
    if (rows !== 1 && rows !== 3 && rows !== 5) {
      this.#sortedMedians(table, out);
      return out;
    }
    for (let start = 0; start < d; start += SKETCH_BLOCK) {
      const n = Math.min(SKETCH_BLOCK, d - start), end = start + n;
      const o = start * rows - start;
      if (rows === 1) {
        for (let j = start; j < end; j++) {
          const slot = slots[o + j]!;
          out[j] = signs[slot >>> shift]! * table[slot & mask]!;
        }
      } else if (rows === 3) {
        const o1 = o + n, o2 = o1 + n;
        for (let j = start; j < end; j++) {
          const s0 = slots[o + j]!, s1 = slots[o1 + j]!, s2 = slots[o2 + j]!;
          out[j] = exactMedian3(
            signs[s0 >>> shift]! * table[s0 & mask]!,
            signs[s1 >>> shift]! * table[cols + (s1 & mask)]!,
            signs[s2 >>> shift]! * table[c2 + (s2 & mask)]!,
          );
        }
      } else {
        const o1 = o + n, o2 = o1 + n, o3 = o2 + n, o4 = o3 + n;
        for (let j = start; j < end; j++) {
          const s0 = slots[o + j]!, s1 = slots[o1 + j]!, s2 = slots[o2 + j]!;
          const s3 = slots[o3 + j]!, s4 = slots[o4 + j]!;
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
      }
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
    for (let start = 0; start < d; start += SKETCH_BLOCK) {
      const n = Math.min(SKETCH_BLOCK, d - start);
      const o = start * rows - start;
      for (let j = start; j < start + n; j++) {
        for (let r = 0; r < rows; r++) {
          const slot = slots[o + r * n + j]!;
          column[r] = SIGNS[slot >>> shift]! * table[r * cols + (slot & mask)]!;
        }
        column.sort();
        out[j] = rows % 2 === 1
          ? column[rows >>> 1]!
          : (column[rows / 2 - 1]! + column[rows / 2]!) / 2;
      }
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
    const { rows, cols, d } = this;
    const slots = this.#slots, mask = this.#bucketMask;
    for (let i = 0; i < coordinates.length; i++) {
      const j = coordinates[i]!;
      const start = j - j % SKETCH_BLOCK;
      const n = Math.min(SKETCH_BLOCK, d - start);
      const o = start * rows + j - start;
      for (let r = 0; r < rows; r++) table[r * cols + (slots[o + r * n]! & mask)] = 0;
    }
  }
}

/**
 * One block of the slots: `n` coordinates from `start`, whose slots begin at `at`, row after row.
 */
interface Block {
  readonly slots: Slots;
  readonly at: number;
  readonly n: number;
  readonly start: number;
}

/**
 * The JavaScript update of one block of a 5-row sketch, unrolled: one value, five counters. Each
 * counter adds in float32 (a float64 sum of two float32 values, rounded by the store, is the
 * float32 sum). The value and its negation are written once per coordinate into
 * {@linkcode SIGNED} and each row loads the one its sign bit picks: `v + (−v)`'s bits are
 * `v + (−1)·v`'s (for a NaN, only its sign bit may differ), and one load per counter costs less
 * than a multiplication by a loaded `±1`.
 */
function accumulate5(
  block: Block,
  shift: number,
  mask: number,
  cols: number,
  values: Float32Array,
  table: Float32Array,
): void {
  const { slots, n, start } = block;
  const signed = SIGNED;
  const c2 = 2 * cols, c3 = 3 * cols, c4 = 4 * cols;
  // `o + j` is coordinate j's slot in row 0 of the block, `o + j + n·r` in row r.
  const o = block.at - start, o1 = o + n, o2 = o1 + n, o3 = o2 + n, o4 = o3 + n;
  for (let j = start, end = start + n; j < end; j++) {
    const value = values[j]!;
    signed[0] = value;
    signed[1] = -value;
    let slot = slots[o + j]!;
    let at = slot & mask;
    table[at] = table[at]! + signed[slot >>> shift]!;
    slot = slots[o1 + j]!;
    at = cols + (slot & mask);
    table[at] = table[at]! + signed[slot >>> shift]!;
    slot = slots[o2 + j]!;
    at = c2 + (slot & mask);
    table[at] = table[at]! + signed[slot >>> shift]!;
    slot = slots[o3 + j]!;
    at = c3 + (slot & mask);
    table[at] = table[at]! + signed[slot >>> shift]!;
    slot = slots[o4 + j]!;
    at = c4 + (slot & mask);
    table[at] = table[at]! + signed[slot >>> shift]!;
  }
}

/** The update of one block of a 3-row sketch, unrolled (see {@linkcode accumulate5}). */
function accumulate3(
  block: Block,
  shift: number,
  mask: number,
  cols: number,
  values: Float32Array,
  table: Float32Array,
): void {
  const { slots, n, start } = block;
  const signed = SIGNED;
  const c2 = 2 * cols;
  const o = block.at - start, o1 = o + n, o2 = o1 + n;
  for (let j = start, end = start + n; j < end; j++) {
    const value = values[j]!;
    signed[0] = value;
    signed[1] = -value;
    let slot = slots[o + j]!;
    let at = slot & mask;
    table[at] = table[at]! + signed[slot >>> shift]!;
    slot = slots[o1 + j]!;
    at = cols + (slot & mask);
    table[at] = table[at]! + signed[slot >>> shift]!;
    slot = slots[o2 + j]!;
    at = c2 + (slot & mask);
    table[at] = table[at]! + signed[slot >>> shift]!;
  }
}

/** The update of one block of a sketch of any number of rows (see {@linkcode accumulate5}). */
function accumulateRows(
  block: Block,
  rows: number,
  shift: number,
  mask: number,
  cols: number,
  values: Float32Array,
  table: Float32Array,
): void {
  const { slots, n, start } = block;
  const signed = SIGNED;
  const size = rows * cols;
  const o = block.at - start;
  for (let j = start, end = start + n; j < end; j++) {
    signed[0] = values[j]!;
    signed[1] = -values[j]!;
    for (let base = 0, at = o + j; base < size; base += cols, at += n) {
      const slot = slots[at]!;
      const counter = base + (slot & mask);
      table[counter] = table[counter]! + signed[slot >>> shift]!;
    }
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
