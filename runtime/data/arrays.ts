/**
 * What the array file readers (`npy.ts`, `zip.ts`, `safetensors_arrays.ts`, `csv.ts`) share: an
 * n-dimensional array as raw little-endian bytes in C order with its dtype and shape, the
 * conversion of those bytes to floats, and the error that names the file.
 *
 * @module
 */

/**
 * Element types, in NumPy's short names: floats, signed and unsigned integers, booleans. All are
 * little-endian.
 */
export type Dtype = "f4" | "f8" | "i1" | "i2" | "i4" | "i8" | "u1" | "u2" | "u4" | "u8" | "b1";

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: { readonly [D in Dtype]: number } = {
  f4: 4,
  f8: 8,
  i1: 1,
  i2: 2,
  i4: 4,
  i8: 8,
  u1: 1,
  u2: 2,
  u4: 4,
  u8: 8,
  b1: 1,
};

/** An array as read from a file: raw little-endian elements in C (row-major) order. */
export interface RawArray {
  /** Element type. */
  readonly dtype: Dtype;
  /** Dimensions, outermost first (`[]` for a scalar). */
  readonly shape: readonly number[];
  /** `product(shape) × DTYPE_BYTES[dtype]` bytes. */
  readonly bytes: Uint8Array;
}

/** A data file cannot be read or does not hold the arrays asked for. */
export class TensorsFileError extends Error {
  /**
   * @param path The file.
   * @param detail What is wrong.
   */
  constructor(readonly path: string, readonly detail: string) {
    super(`Cannot read data file "${path}": ${detail}`);
    this.name = "TensorsFileError";
  }
}

/**
 * The number of elements of a shape.
 *
 * @param shape Dimensions.
 * @returns Their product (1 for a scalar).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { elementCount } from "./arrays.ts";
 * assert.equal(elementCount([2, 3, 4]), 24);
 * ```
 */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

/** Reads element `i` of a little-endian view. */
function reader(dtype: Dtype, view: DataView): (i: number) => number {
  switch (dtype) {
    case "f4":
      return (i) => view.getFloat32(i * 4, true);
    case "f8":
      return (i) => view.getFloat64(i * 8, true);
    case "i1":
      return (i) => view.getInt8(i);
    case "i2":
      return (i) => view.getInt16(i * 2, true);
    case "i4":
      return (i) => view.getInt32(i * 4, true);
    case "i8":
      return (i) => Number(view.getBigInt64(i * 8, true));
    case "u1":
      return (i) => view.getUint8(i);
    case "u2":
      return (i) => view.getUint16(i * 2, true);
    case "u4":
      return (i) => view.getUint32(i * 4, true);
    case "u8":
      return (i) => Number(view.getBigUint64(i * 8, true));
    case "b1":
      return (i) => (view.getUint8(i) === 0 ? 0 : 1);
  }
}

/**
 * An array's elements as floats (64-bit integers rounded to the nearest double).
 *
 * @param array The raw array.
 * @param Target `Float32Array` or `Float64Array`.
 * @returns A new array of `elementCount(array.shape)` values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toFloats } from "./arrays.ts";
 * const bytes = new Uint8Array(Int16Array.of(-2, 300).buffer);
 * assert.deepEqual([...toFloats({ dtype: "i2", shape: [2], bytes }, Float64Array)], [-2, 300]);
 * ```
 */
export function toFloats<T extends Float32Array | Float64Array>(
  array: RawArray,
  Target: { new (length: number): T },
): T {
  const count = elementCount(array.shape);
  const out = new Target(count);
  const native = LITTLE_ENDIAN ? nativeView(array, count) : null;
  if (native !== null && !(native instanceof BigInt64Array || native instanceof BigUint64Array)) {
    out.set(native);
    return out;
  }
  const view = new DataView(array.bytes.buffer, array.bytes.byteOffset, array.bytes.byteLength);
  const read = reader(array.dtype, view);
  for (let i = 0; i < count; i++) out[i] = read(i);
  return out;
}

/** Whether this machine stores numbers little-endian, as the files do (then views need no swap). */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** The elements as a typed array of the machine's own, aligned (copied when they are not). */
function nativeView(array: RawArray, count: number): ArrayLike<number> | BigInt64Array | null {
  const size = DTYPE_BYTES[array.dtype];
  const bytes = array.bytes.byteOffset % size === 0 ? array.bytes : array.bytes.slice();
  const at = [bytes.buffer, bytes.byteOffset, count] as const;
  switch (array.dtype) {
    case "f4":
      return new Float32Array(...at);
    case "f8":
      return new Float64Array(...at);
    case "i1":
      return new Int8Array(...at);
    case "i2":
      return new Int16Array(...at);
    case "i4":
      return new Int32Array(...at);
    case "u1":
      return new Uint8Array(...at);
    case "u2":
      return new Uint16Array(...at);
    case "u4":
      return new Uint32Array(...at);
    default:
      return null; // 64-bit integers and booleans: element by element
  }
}

/**
 * Reorders a Fortran-order (column-major) array's elements into C order.
 *
 * @param bytes The elements in Fortran order.
 * @param shape The dimensions.
 * @param size Bytes per element.
 * @returns The same elements in C order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fortranToC } from "./arrays.ts";
 * // [[1, 2, 3], [4, 5, 6]] stored column by column: 1 4 2 5 3 6.
 * assert.deepEqual([...fortranToC(Uint8Array.of(1, 4, 2, 5, 3, 6), [2, 3], 1)], [1, 2, 3, 4, 5, 6]);
 * ```
 */
export function fortranToC(bytes: Uint8Array, shape: readonly number[], size: number): Uint8Array {
  const count = elementCount(shape);
  const out = new Uint8Array(count * size);
  const index = new Array<number>(shape.length).fill(0);
  // Walk C order (last index fastest); the Fortran offset has the first index fastest.
  const strides = shape.map((_, axis) => elementCount(shape.slice(0, axis)));
  for (let c = 0; c < count; c++) {
    let f = 0;
    for (let axis = 0; axis < shape.length; axis++) f += index[axis]! * strides[axis]!;
    for (let b = 0; b < size; b++) out[c * size + b] = bytes[f * size + b]!;
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++index[axis]! < shape[axis]!) break;
      index[axis] = 0;
    }
  }
  return out;
}
