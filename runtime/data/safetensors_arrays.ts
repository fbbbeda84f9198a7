/**
 * Reads named n-dimensional arrays from a safetensors file, any of the numeric dtypes a data set
 * uses (`runtime/safetensors.ts` decodes flat float vectors, for parameters and checkpoints, and
 * splits off the header for both). Every offset is checked against the file before it is read.
 *
 * @module
 */

import { readSafetensorsHeader } from "../safetensors.ts";
import { type Dtype, DTYPE_BYTES, elementCount, type RawArray } from "./arrays.ts";

/** Safetensors dtype names and their dtype. */
const DTYPES: Readonly<Record<string, Dtype>> = {
  F32: "f4",
  F64: "f8",
  I8: "i1",
  I16: "i2",
  I32: "i4",
  I64: "i8",
  U8: "u1",
  U16: "u2",
  U32: "u4",
  U64: "u8",
  BOOL: "b1",
};

/**
 * Decodes the arrays of a safetensors file.
 *
 * @param bytes The file's bytes.
 * @returns Its arrays by name, in header order (metadata left out).
 * @throws {SafetensorsError} When the header is out of range or not JSON.
 * @throws {Error} Saying what is wrong: an unsupported dtype, offsets outside the data or not
 *   matching the shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSafetensorsArrays } from "./safetensors_arrays.ts";
 * import { encodeSafetensors } from "../safetensors.ts";
 * const arrays = parseSafetensorsArrays(encodeSafetensors([{ name: "y", data: Float32Array.of(1, 2) }]));
 * assert.deepEqual([arrays.get("y")!.dtype, arrays.get("y")!.shape], ["f4", [2]]);
 * ```
 */
export function parseSafetensorsArrays(bytes: Uint8Array): Map<string, RawArray> {
  const { header, data } = readSafetensorsHeader(bytes);
  const arrays = new Map<string, RawArray>();
  for (const [name, entry] of Object.entries(header)) {
    if (name !== "__metadata__") arrays.set(name, readArray(name, entry, data));
  }
  return arrays;
}

/** Checks one header entry and takes its bytes. */
function readArray(name: string, entry: unknown, data: Uint8Array): RawArray {
  const { dtype: name_, shape, data_offsets: offsets } = (entry ?? {}) as Record<string, unknown>;
  const dtype = typeof name_ === "string" ? DTYPES[name_] : undefined;
  if (dtype === undefined) {
    throw new Error(
      `tensor "${name}": dtype ${JSON.stringify(name_)} is not supported (supported: ${
        Object.keys(DTYPES).join(" ")
      })`,
    );
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of sizes`);
  }
  const expected = elementCount(shape) * DTYPE_BYTES[dtype];
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((value) => Number.isSafeInteger(value) && value >= 0) ||
    offsets[1] > data.length || offsets[1] - offsets[0] !== expected
  ) {
    throw new Error(
      `tensor "${name}": data_offsets ${JSON.stringify(offsets)} are not the ${expected} bytes ` +
        `of shape ${JSON.stringify(shape)} within the ${data.length} data bytes`,
    );
  }
  return { dtype, shape, bytes: data.subarray(offsets[0], offsets[1]) };
}
