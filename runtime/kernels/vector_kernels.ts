/**
 * Vector kernels for the hot loops, in WebAssembly with 128-bit SIMD (`vector_kernels.wat`),
 * each bit-identical to the JavaScript loop it replaces. The JavaScript loops stay, as the
 * reference the tests compare against and as the fallback: {@linkcode kernelSelection} says which
 * runs and why, as `backend.ts` does for TensorFlow.js, and nothing falls back silently.
 *
 * WebAssembly code reads only its own memory, so a vector elsewhere must be copied in and out.
 * Two ways are used:
 *
 * - {@linkcode addInto} (the ring all-reduce's reduction) copies both operands in blocks that
 *   stay in the cache into a private scratch memory, adds there and copies the sum out (the
 *   scratch is a plain memory: V8 copies to and from a shared one word by word, slower);
 * - the shared-memory all-reduce's arena is itself a WebAssembly memory
 *   ({@linkcode createKernelMemory}), so {@linkcode ArenaKernels.ringSum} sums the ranks' slots
 *   where they lie, all ranks of the ring order in one pass, with no copy.
 *
 * The module is built from its source by `scripts/build_kernels.ts`, in two variants (over a shared
 * and over a plain memory), and committed as base64 in `_vector_kernels_wasm.ts`, so it loads the
 * same from a file or a URL, with no toolchain.
 *
 * @module
 */

import type { Random } from "../random.ts";
import { PLAIN_KERNELS_WASM, SHARED_KERNELS_WASM } from "./_vector_kernels_wasm.ts";

/** Which kernels to run: `auto` takes WebAssembly SIMD where it works. */
export type KernelRequest = "auto" | "wasm" | "js";

/** The kernels that run, and why, in words. */
export interface KernelSelection {
  /** `wasm-simd` or `js`. */
  readonly kernels: "wasm-simd" | "js";
  /** Why, e.g. `WebAssembly SIMD available` or `js requested`. */
  readonly reason: string;
}

/** The module's exports. */
interface KernelExports {
  add_f32(out: number, a: number, b: number, n: number): void;
  ring_sum(
    out: number,
    rows: number,
    stride: number,
    ranks: number,
    first: number,
    n: number,
  ): void;
  sum_squares_f64(at: number, n: number): number;
  bucket_squares(at: number, bucket: number, count: number, out: number): void;
  qsgd_levels(
    at: number,
    n: number,
    scale: number,
    levels: number,
    state: number,
    out: number,
    draws: number,
  ): void;
  qsgd_decode(
    j: number,
    end: number,
    unit: number,
    width: number,
    levelsAt: number,
    signsAt: number,
    target: number,
    f32: number,
  ): void;
  sign_bits(at: number, n: number, out: number): void;
  pack_levels(at: number, n: number, width: number, out: number): void;
}

/** Bytes of one WebAssembly page. */
const PAGE = 65536;
/** The most pages a 32-bit memory can have (4 GiB). */
const MAX_PAGES = 65536;

/** Floats per block that {@linkcode addInto} copies through scratch memory (two 64 KiB blocks). */
const BLOCK_FLOATS = 16384;

/**
 * Below this many floats {@linkcode addInto} stays in JavaScript: the call and copies cost more
 * than they save.
 */
const MIN_KERNEL_FLOATS = 64;

/** The compiled modules over a shared and over a plain memory. */
interface KernelModules {
  readonly shared: WebAssembly.Module;
  readonly plain: WebAssembly.Module;
}

let compiled: KernelModules | string | null = null;
let current: KernelSelection | null = null;
/** The plain scratch memory and its kernels (made on first use, grown as needed). */
let scratch: { exports: KernelExports; memory: WebAssembly.Memory } | null = null;

/** The compiled modules, or why they cannot be had (compiled once per process or worker). */
function kernelModules(): KernelModules | string {
  if (compiled !== null) return compiled;
  try {
    if (typeof WebAssembly !== "object") throw new Error("no WebAssembly");
    if (typeof SharedArrayBuffer !== "function") throw new Error("no SharedArrayBuffer");
    const [shared, plain] = [SHARED_KERNELS_WASM, PLAIN_KERNELS_WASM].map((base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      if (!WebAssembly.validate(bytes)) {
        throw new Error("this WebAssembly engine does not take 128-bit SIMD or shared memory");
      }
      return new WebAssembly.Module(bytes);
    });
    compiled = { shared: shared!, plain: plain! };
  } catch (error) {
    compiled = error instanceof Error ? error.message : String(error);
  }
  return compiled;
}

/** An instance of the kernels over `memory`. */
function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
}

/**
 * Chooses the kernels for this process (or Web Worker): `auto` and `wasm` take WebAssembly SIMD
 * when its module compiles and runs here (`wasm` throws otherwise), `js` the JavaScript loops.
 *
 * @param request The kernels asked for.
 * @returns The kernels that run and why.
 * @throws {Error} When `wasm` is asked for and cannot run.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectKernels } from "./vector_kernels.ts";
 * assert.deepEqual(selectKernels("js"), { kernels: "js", reason: "js requested" });
 * selectKernels("auto");
 * ```
 */
export function selectKernels(request: KernelRequest): KernelSelection {
  if (request === "js") {
    current = { kernels: "js", reason: "js requested" };
    return current;
  }
  if (request !== "auto" && request !== "wasm") {
    throw new Error(`Unknown kernels "${request as string}": expected auto, wasm or js`);
  }
  const modules = kernelModules();
  if (typeof modules === "string") {
    if (request === "wasm") throw new Error(`Cannot use the WebAssembly SIMD kernels: ${modules}`);
    current = {
      kernels: "js",
      reason: `WebAssembly SIMD kernels unavailable (${modules}); using js`,
    };
    return current;
  }
  current = {
    kernels: "wasm-simd",
    reason: request === "wasm" ? "wasm requested" : "WebAssembly SIMD available; using wasm-simd",
  };
  return current;
}

/**
 * The kernels in use in this process (or worker), chosen with `auto` on first use.
 *
 * @returns The selection.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kernelSelection } from "./vector_kernels.ts";
 * assert.ok(["wasm-simd", "js"].includes(kernelSelection().kernels));
 * ```
 */
export function kernelSelection(): KernelSelection {
  return current ?? selectKernels("auto");
}

/**
 * The scratch kernels, their memory at least `bytes` long; `null` when that is beyond a
 * WebAssembly memory (4 GiB) or the memory cannot grow: the caller then runs its JavaScript loop.
 */
function scratchKernels(bytes: number): NonNullable<typeof scratch> | null {
  const pages = Math.ceil(bytes / PAGE);
  if (pages > MAX_PAGES) return null;
  try {
    if (scratch === null) {
      const memory = new WebAssembly.Memory({ initial: Math.max(pages, 2) });
      scratch = { exports: instantiate((kernelModules() as KernelModules).plain, memory), memory };
    }
    const have = scratch.memory.buffer.byteLength / PAGE;
    if (have < pages) scratch.memory.grow(pages - have);
  } catch {
    return null; // out of memory (a RangeError): the JavaScript loops need none
  }
  return scratch;
}

/**
 * `target[i] = source[i] + target[i]` for every `i`, in JavaScript: the reference for
 * {@linkcode addInto}. A small function of its own, unrolled by four, so that V8 optimises it on
 * its own instead of inside the large async receive loop of the ring.
 *
 * @param target The vector added into.
 * @param source The vector added, as long as `target`.
 */
export function addIntoJs(target: Float32Array, source: Float32Array): void {
  const length = source.length;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    target[i] = source[i]! + target[i]!;
    target[i + 1] = source[i + 1]! + target[i + 1]!;
    target[i + 2] = source[i + 2]! + target[i + 2]!;
    target[i + 3] = source[i + 3]! + target[i + 3]!;
  }
  for (; i < length; i++) target[i] = source[i]! + target[i]!;
}

/**
 * `target[i] = source[i] + target[i]` for every `i` (the ring's order of operands), with the
 * selected kernels: bit-identical either way.
 *
 * @param target The vector added into.
 * @param source The vector added, as long as `target`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addInto } from "./vector_kernels.ts";
 * const target = new Float32Array(100).fill(1);
 * addInto(target, new Float32Array(100).fill(0.5));
 * assert.equal(target[99], 1.5);
 * ```
 */
export function addInto(target: Float32Array, source: Float32Array): void {
  const length = source.length;
  if (length < MIN_KERNEL_FLOATS || kernelSelection().kernels === "js") {
    addIntoJs(target, source);
    return;
  }
  const kernels = scratchKernels(2 * BLOCK_FLOATS * 4);
  if (kernels === null) {
    addIntoJs(target, source);
    return;
  }
  const { exports, memory } = kernels;
  const a = new Float32Array(memory.buffer, 0, BLOCK_FLOATS);
  const b = new Float32Array(memory.buffer, BLOCK_FLOATS * 4, BLOCK_FLOATS);
  for (let lo = 0; lo < length; lo += BLOCK_FLOATS) {
    const hi = Math.min(lo + BLOCK_FLOATS, length);
    const n = hi - lo;
    a.set(source.subarray(lo, hi));
    b.set(target.subarray(lo, hi));
    // target + source: the same IEEE sum; only which payload a NaN + NaN keeps depends on the
    // order, and with the target first it is the target's, as V8's JavaScript loop on x86-64.
    exports.add_f32(a.byteOffset, b.byteOffset, a.byteOffset, n);
    target.set(n === BLOCK_FLOATS ? a : a.subarray(0, n), lo);
  }
}

/** 2⁻³²: a 32-bit draw as a uniform number in `[0, 1)`. */
const UNIT = 2 ** -32;

/**
 * QSGD's bucket norms and stochastic levels in JavaScript: the reference for
 * {@linkcode qsgdLevels}. Per bucket, the norm `√Σv²` (summed in float64 in index order, stored
 * as float32); for a non-zero norm, one 32-bit draw per value and the level
 * `min(levels, ⌊|v|·levels/norm + draw·2⁻³²⌋)`.
 *
 * @param values The vector.
 * @param levels The number of levels `s`.
 * @param bucket Values per bucket.
 * @param random The stream the draws come from (advanced by one word per value of a bucket
 * with a non-zero norm).
 * @param norms Receives each bucket's norm.
 * @returns Each value's level.
 */
export function qsgdLevelsJs(
  values: Float32Array,
  levels: number,
  bucket: number,
  random: Random,
  norms: Float32Array,
): Uint16Array {
  const d = values.length;
  const chosen = new Uint16Array(d);
  const draws = new Uint32Array(Math.min(bucket, d));
  for (let b = 0; b < norms.length; b++) {
    const lo = b * bucket;
    const hi = Math.min(lo + bucket, d);
    let squares = 0;
    for (let j = lo; j < hi; j++) squares += values[j]! * values[j]!;
    const norm = Math.fround(Math.sqrt(squares));
    norms[b] = norm;
    if (norm === 0) continue;
    const scale = levels / norm;
    random.fillUint32(draws.subarray(0, hi - lo));
    // Stochastic rounding without a branch on the draw (its outcome is a coin toss, which a
    // branch predictor loses half the time): ⌊r + u⌋ is ⌊r⌋ + 1 with probability r − ⌊r⌋, and
    // `| 0` truncates a non-negative number as ⌊·⌋ does.
    for (let j = lo; j < hi; j++) {
      const level = (Math.abs(values[j]!) * scale + draws[j - lo]! * UNIT) | 0;
      chosen[j] = level > levels ? levels : level;
    }
  }
  return chosen;
}

/**
 * QSGD's bucket norms and stochastic levels with the selected kernels, bit-identical to
 * {@linkcode qsgdLevelsJs} and drawing the same words from `random`: the WebAssembly kernel runs
 * the stream's generator itself (xoshiro128**, on the state {@linkcode Random.withState} lends).
 *
 * @param values The vector.
 * @param levels The number of levels `s`.
 * @param bucket Values per bucket.
 * @param random The stream the draws come from.
 * @param norms Receives each bucket's norm (`⌈values.length / bucket⌉` of them).
 * @returns Each value's level (a view of scratch memory where the kernels run: read it before
 * the next kernel call).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { qsgdLevels, qsgdLevelsJs } from "./vector_kernels.ts";
 * import { randomStream } from "../random.ts";
 * const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i));
 * const norms = new Float32Array(2);
 * const kernel = [...qsgdLevels(values, 7, 512, randomStream(1, "q"), norms)];
 * assert.deepEqual(kernel, [...qsgdLevelsJs(values, 7, 512, randomStream(1, "q"), norms)]);
 * ```
 */
export function qsgdLevels(
  values: Float32Array,
  levels: number,
  bucket: number,
  random: Random,
  norms: Float32Array,
): Uint16Array {
  if (kernelSelection().kernels === "js") {
    return qsgdLevelsJs(values, levels, bucket, random, norms);
  }
  const ran = levelsInScratch(values, levels, bucket, random, norms, 0);
  if (ran === null) return qsgdLevelsJs(values, levels, bucket, random, norms);
  return new Uint16Array(ran.memory.buffer, ran.levelsAt, values.length);
}

/**
 * Runs the norm and level kernels: the values at byte 16 of scratch memory, then the levels, a
 * bucket's draws, and `extra` bytes from `endAt`; `null` (nothing drawn) where scratch memory
 * cannot hold them.
 */
function levelsInScratch(
  values: Float32Array,
  levels: number,
  bucket: number,
  random: Random,
  norms: Float32Array,
  extra: number,
): {
  exports: KernelExports;
  memory: WebAssembly.Memory;
  valuesAt: number;
  levelsAt: number;
  endAt: number;
} | null {
  const d = values.length;
  // Layout: the generator's state (16 bytes), the values, the levels, a bucket's draws.
  const valuesAt = 16;
  const levelsAt = valuesAt + 4 * d;
  const drawsAt = levelsAt + 2 * d;
  const sumsAt = Math.ceil((drawsAt + 4 * Math.min(bucket, d)) / 8) * 8;
  const endAt = sumsAt + 8 * norms.length;
  const kernels = scratchKernels(endAt + extra);
  if (kernels === null) return null;
  const { exports, memory } = kernels;
  const state = new Uint32Array(memory.buffer, 0, 4);
  new Float32Array(memory.buffer, valuesAt, d).set(values);
  new Uint16Array(memory.buffer, levelsAt, d).fill(0);
  random.withState((words) => {
    state.set(words);
    // Every bucket's sum of squares first (whole buckets four at a time), then the levels.
    const whole = Math.floor(d / bucket);
    exports.bucket_squares(valuesAt, bucket, whole, sumsAt);
    const sums = new Float64Array(memory.buffer, sumsAt, norms.length);
    if (whole < norms.length) {
      sums[whole] = exports.sum_squares_f64(valuesAt + 4 * whole * bucket, d - whole * bucket);
    }
    for (let b = 0; b < norms.length; b++) {
      const lo = b * bucket;
      const n = Math.min(lo + bucket, d) - lo;
      const norm = Math.fround(Math.sqrt(sums[b]!));
      norms[b] = norm;
      if (norm === 0) continue;
      const at = valuesAt + 4 * lo;
      exports.qsgd_levels(at, n, levels / norm, levels, 0, levelsAt + 2 * lo, drawsAt);
    }
    words.set(state);
  });
  return { exports, memory, valuesAt, levelsAt, endAt };
}

/**
 * QSGD's whole encode with the WebAssembly kernels: norms, levels (with the stream's draws),
 * sign bits and level packing, written into `code` as `qsgd.ts`'s `quantize` lays it out
 * (`buckets` norms, the signs at `4·buckets`, then the levels `width` bits each), bit-identical
 * to its JavaScript loops (the reference and fallback).
 *
 * @param values The vector.
 * @param levels The number of levels `s`.
 * @param bucket Values per bucket.
 * @param width Bits per level, `⌈log2(s + 1)⌉`.
 * @param random The stream the draws come from.
 * @param code The code to fill, of its full length.
 * @returns Whether the kernels ran (false where the JavaScript loops are selected or the vector
 * does not fit in scratch memory; then nothing was drawn).
 */
export function qsgdEncode(
  values: Float32Array,
  levels: number,
  bucket: number,
  width: number,
  random: Random,
  code: Uint8Array,
): boolean {
  if (kernelSelection().kernels === "js") return false;
  const d = values.length;
  const buckets = Math.ceil(d / bucket);
  const norms = new Float32Array(code.buffer, code.byteOffset, buckets);
  const ran = levelsInScratch(values, levels, bucket, random, norms, code.length);
  if (ran === null) return false;
  const { exports, memory, valuesAt, levelsAt, endAt } = ran;
  // The code's signs and levels after the rest in scratch, then copied out.
  const signsAt = endAt;
  const rest = new Uint8Array(memory.buffer, signsAt, code.length - 4 * buckets);
  rest.fill(0);
  exports.sign_bits(valuesAt, d, signsAt);
  exports.pack_levels(levelsAt, d, width, signsAt + Math.ceil(d / 8));
  code.set(rest, 4 * buckets);
  return true;
}

/**
 * Adds `scale ×` a QSGD code to `target` with the WebAssembly kernel, bit-identical to the
 * JavaScript loop of `qsgd.ts`'s `dequantizeInto` (the reference and fallback, which checks the
 * code's length before this is called). The code and `target` are copied into scratch memory and
 * `target` back out.
 *
 * @param code The code: `buckets` float32 norms, then the signs at `signsAt`, the levels at
 * `levelsAt`, `width` bits each.
 * @param layout Where the parts of the code lie, and its sizes.
 * @param target The vector to add to (float32 or float64).
 * @param scale The factor.
 * @returns Whether the kernel ran (false where the JavaScript loops are selected or the code and
 * target do not fit in scratch memory).
 */
export function qsgdAddDecoded(
  code: Uint8Array,
  layout: {
    readonly d: number;
    readonly levels: number;
    readonly bucket: number;
    readonly buckets: number;
    readonly width: number;
    readonly signsAt: number;
    readonly levelsAt: number;
  },
  target: Float32Array | Float64Array,
  scale: number,
): boolean {
  if (kernelSelection().kernels === "js") return false;
  const { d, levels, bucket, buckets, width } = layout;
  // Layout: the code (and the 3 bytes the kernel may read past its last level), then the target.
  const targetAt = Math.ceil((code.length + 3) / 8) * 8;
  const kernels = scratchKernels(targetAt + target.byteLength);
  if (kernels === null) return false;
  const { exports, memory } = kernels;
  const bytes = new Uint8Array(memory.buffer);
  bytes.set(code);
  bytes.fill(0, code.length, code.length + 3);
  const targetBytes = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
  bytes.set(targetBytes, targetAt);
  const norms = new Float32Array(memory.buffer, 0, buckets);
  const f32 = target instanceof Float32Array ? 1 : 0;
  for (let b = 0; b < buckets; b++) {
    const unit = scale * norms[b]! / levels;
    if (unit === 0) continue;
    const lo = b * bucket;
    const hi = Math.min(lo + bucket, d);
    exports.qsgd_decode(lo, hi, unit, width, layout.levelsAt, layout.signsAt, targetAt, f32);
  }
  targetBytes.set(bytes.subarray(targetAt, targetAt + target.byteLength));
  return true;
}

/**
 * A shared memory of at least `bytes` bytes that the kernels can work in place on (the
 * shared-memory all-reduce's arena), or a plain `SharedArrayBuffer` where the JavaScript loops
 * run or the size is beyond a WebAssembly memory.
 *
 * @param bytes The bytes needed.
 * @returns The memory (its `buffer` holds the bytes, rounded up to whole 64 KiB pages), or `null`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createKernelMemory, kernelSelection } from "./vector_kernels.ts";
 * const memory = createKernelMemory(100);
 * assert.equal(memory === null, kernelSelection().kernels === "js");
 * ```
 */
export function createKernelMemory(bytes: number): WebAssembly.Memory | null {
  if (kernelSelection().kernels === "js") return null;
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  if (pages > MAX_PAGES) return null;
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/** Kernels working in place in an arena's memory (see {@linkcode arenaKernels}). */
export interface ArenaKernels {
  /**
   * `memory[out + 4i] = ((row(first) + row(first+1)) + …) + row(first−1)` at element `i < n`,
   * `row(r)` the float32 vector at byte `rows + (r mod ranks)·stride`: the ring all-reduce's
   * summation order, each addition rounded to float32.
   */
  ringSum(out: number, rows: number, stride: number, ranks: number, first: number, n: number): void;
}

/**
 * The kernels over an arena's memory, when the WebAssembly SIMD kernels run here.
 *
 * @param memory The arena's memory (from {@linkcode createKernelMemory}, possibly in another
 * thread).
 * @returns The kernels, or `null` where the JavaScript loops run.
 */
export function arenaKernels(memory: WebAssembly.Memory | undefined): ArenaKernels | null {
  if (memory === undefined || kernelSelection().kernels === "js") return null;
  const exports = instantiate((kernelModules() as KernelModules).shared, memory);
  return {
    ringSum: (out, rows, stride, ranks, first, n) =>
      exports.ring_sum(out, rows, stride, ranks, first, n),
  };
}
