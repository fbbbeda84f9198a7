/**
 * NumPy's `.npy` format (numpy.lib.format, versions 1.0, 2.0 and 3.0): the magic `\x93NUMPY`,
 * a major and minor version byte, the header length (2 bytes little-endian in version 1, 4 in
 * versions 2 and 3), then a Python dict literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded with spaces, then the raw
 * elements. Fortran-order arrays are reordered into C order; big-endian and structured dtypes
 * are refused.
 *
 * @module
 */

import { type Dtype, DTYPE_BYTES, elementCount, fortranToC, type RawArray } from "./arrays.ts";

/** The `descr` values read, and their dtype. */
const DESCRS: Readonly<Record<string, Dtype>> = {
  "<f4": "f4",
  "<f8": "f8",
  "<i1": "i1",
  "|i1": "i1",
  "<i2": "i2",
  "<i4": "i4",
  "<i8": "i8",
  "<u1": "u1",
  "|u1": "u1",
  "<u2": "u2",
  "<u4": "u4",
  "<u8": "u8",
  "|b1": "b1",
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Decodes a `.npy` file.
 *
 * @param bytes The file's bytes.
 * @returns The array, in C order.
 * @throws {Error} Saying what is wrong: not a `.npy` file, an unknown version, a header that is
 *   not a dict of `descr`, `fortran_order` and `shape`, an unsupported dtype, or too few bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseNpy } from "./npy.ts";
 * const text = "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }".padEnd(117) + "\n";
 * const bytes = Uint8Array.from([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0, 118, 0,
 *   ...new TextEncoder().encode(text), 7, 9]);
 * const array = parseNpy(bytes);
 * assert.deepEqual([array.dtype, array.shape, [...array.bytes]], ["u1", [2], [7, 9]]);
 * ```
 */
export function parseNpy(bytes: Uint8Array): RawArray {
  if (bytes.length < 10 || MAGIC.some((byte, i) => bytes[i] !== byte)) {
    throw new Error("not a .npy file (it does not start with \\x93NUMPY)");
  }
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new Error(`unknown .npy version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw new Error("the .npy header is cut short");
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lengthBytes;
  if (start + headerLength > bytes.length) {
    throw new Error(
      `the .npy header claims ${headerLength} bytes but the file has ${bytes.length - start}`,
    );
  }
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(start, start + headerLength),
  );
  const { dtype, fortran, shape } = parseHeader(header);
  const size = DTYPE_BYTES[dtype];
  const count = elementCount(shape);
  const data = bytes.subarray(start + headerLength);
  if (data.length < count * size) {
    throw new Error(
      `shape (${shape.join(", ")}) needs ${
        count * size
      } bytes of data but the file has ${data.length}`,
    );
  }
  const elements = data.subarray(0, count * size);
  return { dtype, shape, bytes: fortran ? fortranToC(elements, shape, size) : elements };
}

/** Reads the header dict's three entries. */
function parseHeader(header: string): { dtype: Dtype; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(
      `the .npy header is not a dict of 'descr', 'fortran_order' and 'shape': ${
        JSON.stringify(header.trim())
      }`,
    );
  }
  const dtype = DESCRS[descr];
  if (dtype === undefined) {
    throw new Error(
      `dtype '${descr}' is not supported (supported: ${Object.keys(DESCRS).join(" ")})`,
    );
  }
  const dims = shapeText.split(",").map((text) => text.trim()).filter((text) => text !== "");
  const shape = dims.map((text) => Number(text.replace(/L$/, "")));
  if (!shape.every((size) => Number.isSafeInteger(size) && size >= 0)) {
    throw new Error(`the .npy shape (${shapeText}) is not a tuple of sizes`);
  }
  return { dtype, fortran: fortran === "True", shape };
}
