/**
 * The count sketch's update and estimates in WebAssembly (`count_sketch_add`,
 * `count_sketch_medians` in `vector_kernels.wat`), for
 * `CountSketch` (`runtime/compressors/sketched_sgd.ts`), which keeps the JavaScript loop as the
 * reference and fallback; {@linkcode kernelSelection} says which runs, call by call, as for the
 * other kernels.
 *
 * The update is a scatter: each of the `rows · d` slots adds one value into a counter. The slots
 * (`rows · d` 16-bit words, hashed once per sketch shape) are read by every update, so they live
 * in a WebAssembly memory of their own ({@linkcode CountSketchKernel.slots}, which the JavaScript
 * code reads too, so there is one copy); the table and one block of values at a time are copied
 * in beside them. Both layouts are blocked ({@linkcode SKETCH_BLOCK}): the kernel runs one row of
 * one block at a time, so the counters it touches are one row's, mostly in the L1 cache, and four
 * coordinates' addresses and signed values are computed in one vector each.
 *
 * @module
 */

import { PLAIN_KERNELS_WASM } from "./_vector_kernels_wasm.ts";
import { kernelSelection } from "./vector_kernels.ts";

/**
 * Coordinates per block of the slot layout: within a block of `n` coordinates (the last may be
 * shorter), the slots of row 0, then row 1, …, `n` each. 4096 values (16 KB) and one row's
 * counters (40 KB at 10,000 columns) stay in the caches nearest the core while a row is added;
 * 2048 to 8192 measured within a few percent of each other.
 */
export const SKETCH_BLOCK = 4096;

/** Columns up to which a slot is 16 bits (a 15-bit bucket and the sign): the kernel's slots. */
export const NARROW_COLS = 0x8000;

/** The kernel's export. */
interface SketchExports {
  count_sketch_add(
    slots: number,
    values: number,
    n: number,
    table: number,
    cols: number,
    rows: number,
  ): void;
  count_sketch_medians(
    slots: number,
    n: number,
    table: number,
    cols: number,
    rows: number,
    scratch: number,
    out: number,
  ): void;
}

/** Bytes per row of the estimates' gather scratch (516 floats: a run of 512 and a vector). */
const GATHER_ROW_BYTES = 2064;
/** The rows whose estimates the kernel takes (the median networks it has). */
const MEDIAN_ROWS = [3, 5];

/** Bytes of one WebAssembly page. */
const PAGE = 65536;
/** The most pages a 32-bit memory can have (4 GiB). */
const MAX_PAGES = 65536;

let compiled: WebAssembly.Module | string | null = null;

/** The kernels over a plain memory, compiled once, or why they cannot be. */
function plainModule(): WebAssembly.Module | string {
  if (compiled !== null) return compiled;
  try {
    if (typeof WebAssembly !== "object") throw new Error("no WebAssembly");
    const bytes = Uint8Array.from(atob(PLAIN_KERNELS_WASM), (c) => c.charCodeAt(0));
    if (!WebAssembly.validate(bytes)) throw new Error("no 128-bit WebAssembly SIMD here");
    compiled = new WebAssembly.Module(bytes);
  } catch (error) {
    compiled = error instanceof Error ? error.message : String(error);
  }
  return compiled;
}

/** Rounds up to a multiple of 16 bytes. */
function aligned(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

/** Bytes of the kernel memory's regions before the slots. */
function scratchBytes(rows: number, cols: number): number {
  return aligned(rows * cols * 4) + aligned((SKETCH_BLOCK + 4) * 4) + 5 * GATHER_ROW_BYTES;
}

/**
 * A narrow sketch's slots in a WebAssembly memory, with the update and estimates kernels over
 * them. The memory holds, in order: the table (copied in per call, and out after an update), one
 * block of values (the update) or estimates (the estimates), the estimates' gather scratch, and
 * the slots.
 */
export class CountSketchKernel {
  /** The slots, blocked ({@linkcode SKETCH_BLOCK}); the caller fills them once. */
  readonly slots: Uint16Array;
  readonly #rows: number;
  readonly #cols: number;
  readonly #d: number;
  readonly #exports: SketchExports;
  /** The table's place in the memory, as floats. */
  readonly #table: Float32Array;
  /** The block of values' (or estimates') place, with room for a vector past a block. */
  readonly #values: Float32Array;
  /** The estimates' gather scratch, as a byte offset. */
  readonly #gatherAt: number;

  /**
   * @param module The compiled kernels.
   * @param rows Rows.
   * @param cols Counters per row (at most {@linkcode NARROW_COLS}).
   * @param d The vector length.
   * @param pages The memory's size.
   */
  constructor(module: WebAssembly.Module, rows: number, cols: number, d: number, pages: number) {
    const memory = new WebAssembly.Memory({ initial: pages });
    this.#exports = new WebAssembly.Instance(module, { env: { memory } })
      .exports as unknown as SketchExports;
    [this.#rows, this.#cols, this.#d] = [rows, cols, d];
    const valuesAt = aligned(rows * cols * 4);
    this.#gatherAt = valuesAt + aligned((SKETCH_BLOCK + 4) * 4);
    const slotsAt = scratchBytes(rows, cols);
    this.#table = new Float32Array(memory.buffer, 0, rows * cols);
    this.#values = new Float32Array(memory.buffer, valuesAt, SKETCH_BLOCK + 4);
    this.slots = new Uint16Array(memory.buffer, slotsAt, rows * d);
  }

  /**
   * Adds the sketch of `values` to `table`, bit for bit as the JavaScript loop: the table is
   * copied in, each block of values copied in and added row by row, the table copied out.
   *
   * @param values A vector of `d` values.
   * @param table The counters, `rows × cols`, updated in place.
   */
  add(values: Float32Array, table: Float32Array): void {
    const rows = this.#rows, cols = this.#cols, d = this.#d;
    const kernelTable = this.#table, block = this.#values;
    kernelTable.set(table);
    const slotsAt = this.slots.byteOffset;
    for (let start = 0; start < d; start += SKETCH_BLOCK) {
      const n = Math.min(SKETCH_BLOCK, d - start);
      block.set(values.subarray(start, start + n));
      this.#exports.count_sketch_add(
        slotsAt + 2 * rows * start,
        block.byteOffset,
        n,
        kernelTable.byteOffset,
        cols,
        rows,
      );
    }
    table.set(kernelTable);
  }

  /**
   * Whether {@linkcode CountSketchKernel.medians} takes this sketch: 3 or 5 rows.
   *
   * @returns `true` for 3 or 5 rows.
   */
  get hasMedians(): boolean {
    return MEDIAN_ROWS.includes(this.#rows);
  }

  /**
   * The estimates of a float32 table, bit for bit those of `CountSketch`'s JavaScript loop: per
   * coordinate the median over rows of the signed counters, by the same branchless float64
   * network, rounded to float32. For 3 or 5 rows ({@linkcode CountSketchKernel.hasMedians}).
   *
   * @param table The counters, `rows × cols`.
   * @param out Receives `d` estimates.
   */
  medians(table: Float32Array, out: Float32Array): void {
    const rows = this.#rows, cols = this.#cols, d = this.#d;
    const kernelTable = this.#table, block = this.#values;
    kernelTable.set(table);
    const slotsAt = this.slots.byteOffset;
    for (let start = 0; start < d; start += SKETCH_BLOCK) {
      const n = Math.min(SKETCH_BLOCK, d - start);
      this.#exports.count_sketch_medians(
        slotsAt + 2 * rows * start,
        n,
        kernelTable.byteOffset,
        cols,
        rows,
        this.#gatherAt,
        block.byteOffset,
      );
      out.set(block.subarray(0, n), start);
    }
  }
}

/**
 * A WebAssembly memory for a sketch's slots, with the update kernel, or why there is none (no
 * WebAssembly SIMD here, slots wider than 16 bits, more than a 32-bit memory holds, or no memory
 * to be had): the sketch then keeps its slots in an ordinary array and runs its JavaScript loop.
 * Made wherever the kernels compile, whatever {@linkcode kernelSelection} says now, so that the
 * selection can change between calls.
 *
 * @param rows Rows.
 * @param cols Counters per row.
 * @param d The vector length.
 * @returns The kernel, or the reason there is none.
 */
export function countSketchKernel(
  rows: number,
  cols: number,
  d: number,
): CountSketchKernel | string {
  if (cols > NARROW_COLS) return `${cols} columns need 32-bit slots`;
  const module = plainModule();
  if (typeof module === "string") return module;
  const bytes = scratchBytes(rows, cols) + rows * d * 2;
  const pages = Math.ceil(bytes / PAGE);
  if (pages > MAX_PAGES) return `${bytes} bytes exceed a WebAssembly memory`;
  try {
    return new CountSketchKernel(module, rows, cols, d, pages);
  } catch (error) {
    return `no memory for the slots (${error instanceof Error ? error.message : error})`;
  }
}

/**
 * Whether the update runs in WebAssembly now: the selected kernels are WebAssembly's and the
 * sketch has a kernel.
 *
 * @param kernel The sketch's kernel, or why it has none.
 * @returns The kernel to run, or `null` for the JavaScript loop.
 */
export function selectedSketchKernel(
  kernel: CountSketchKernel | string,
): CountSketchKernel | null {
  return typeof kernel !== "string" && kernelSelection().kernels === "wasm-simd" ? kernel : null;
}
