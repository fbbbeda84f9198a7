import { messageOf } from "./errors.ts";
/**
 * The safetensors format (huggingface/safetensors): an 8-byte little-endian header length, a
 * JSON header naming each tensor's dtype, shape and byte range, then the raw little-endian
 * data. PyTorch, NumPy and Hugging Face tools read it, and it holds float32 and float64 vectors
 * exactly, so parameters and checkpoints are written in it rather than as JSON numbers.
 *
 * Decoding checks every length and offset before touching the data: a damaged or hostile file
 * is an error that says what is wrong, never a huge allocation or a read out of range.
 *
 * @module
 */

/** A named vector. */
export interface Tensor {
  /** Its name in the file. */
  readonly name: string;
  /** Its values, row-major. */
  readonly data: Float32Array | Float64Array;
  /** Its shape; a flat vector (`[data.length]`) when absent. */
  readonly shape?: readonly number[];
}

/** What a file holds. */
export interface Safetensors {
  /** Tensors by name, in file order. */
  readonly tensors: Map<string, Float32Array | Float64Array>;
  /** The header's `__metadata__` (string to string). */
  readonly metadata: Record<string, string>;
}

/** A file that is not valid safetensors. */
export class SafetensorsError extends Error {
  /**
   * Builds the error.
   *
   * @param message What is wrong.
   */
  constructor(message: string) {
    super(message);
    this.name = "SafetensorsError";
  }
}

/** The largest header accepted (the format's own limit is 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

const DTYPES = { F32: 4, F64: 8 } as const;
type DType = keyof typeof DTYPES;

/**
 * Encodes tensors and metadata.
 *
 * @param tensors Named vectors (names unique, not `__metadata__`).
 * @param metadata String metadata.
 * @returns The file's bytes.
 * @throws {RangeError} When a name is repeated or reserved.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeSafetensors, encodeSafetensors } from "./safetensors.ts";
 *
 * const bytes = encodeSafetensors([{ name: "w", data: Float32Array.of(1, 2) }], { step: "3" });
 * const back = decodeSafetensors(bytes);
 * assert.deepEqual([...back.tensors.get("w")!], [1, 2]);
 * assert.equal(back.metadata.step, "3");
 * ```
 */
export function encodeSafetensors(
  tensors: readonly Tensor[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const { name, data, shape = [data.length] } of tensors) {
    if (name === "__metadata__" || name in header) {
      throw new RangeError(`Cannot encode tensor "${name}": the name is repeated or reserved`);
    }
    if (shape.reduce((a, b) => a * b, 1) !== data.length) {
      throw new RangeError(
        `Cannot encode tensor "${name}": shape [${
          shape.join(", ")
        }] does not hold ${data.length} values`,
      );
    }
    const dtype: DType = data instanceof Float64Array ? "F64" : "F32";
    header[name] = {
      dtype,
      shape: [...shape],
      data_offsets: [offset, offset + data.byteLength],
    };
    offset += data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces to a multiple of 8, so every tensor starts aligned for float64.
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const spaced = new Uint8Array(padded).fill(0x20);
    spaced.set(json);
    json = spaced;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const { data } of tensors) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return out;
}

/**
 * Splits a file into its JSON header (each tensor's `dtype`, `shape` and `data_offsets`, and
 * `__metadata__`) and the data bytes the offsets count from, checking the header's own framing.
 * The entries are left for the caller to check: {@linkcode decodeSafetensors} takes float
 * vectors, a data set's reader any numeric array.
 *
 * @param bytes The file's bytes.
 * @returns The header object and the data after it.
 * @throws {SafetensorsError} When the file is too short, or the header's length, JSON or shape
 *   is invalid.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeSafetensors, readSafetensorsHeader } from "./safetensors.ts";
 * const bytes = encodeSafetensors([{ name: "w", data: Float32Array.of(1, 2), shape: [1, 2] }]);
 * const { header, data } = readSafetensorsHeader(bytes);
 * assert.deepEqual([(header.w as { shape: number[] }).shape, data.length], [[1, 2], 8]);
 * ```
 */
export function readSafetensorsHeader(
  bytes: Uint8Array,
): { header: Record<string, unknown>; data: Uint8Array } {
  if (bytes.length < 8) throw new SafetensorsError(`${bytes.length} bytes: too short for a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getBigUint64(0, true);
  if (headerBytes > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    throw new SafetensorsError(
      `the header claims ${headerBytes} bytes but the file has ${bytes.length - 8} after it`,
    );
  }
  const length = Number(headerBytes);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(
      bytes.subarray(8, 8 + length),
    ));
  } catch (error) {
    throw new SafetensorsError(`the header is not JSON: ${messageOf(error)}`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new SafetensorsError("the header is not a JSON object");
  }
  return { header, data: bytes.subarray(8 + length) };
}

/**
 * Decodes a file, checking its structure.
 *
 * @param bytes The file's bytes.
 * @returns Its tensors (copied into aligned arrays) and metadata.
 * @throws {SafetensorsError} When the header or a tensor's range is invalid.
 */
export function decodeSafetensors(bytes: Uint8Array): Safetensors {
  const { header, data } = readSafetensorsHeader(bytes);
  const tensors = new Map<string, Float32Array | Float64Array>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = checkMetadata(entry);
      continue;
    }
    tensors.set(name, readTensor(name, entry, data));
  }
  return { tensors, metadata };
}

/** Checks the metadata is a map of strings. */
function checkMetadata(entry: unknown): Record<string, string> {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    throw new SafetensorsError("__metadata__ is not an object");
  }
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== "string") throw new SafetensorsError(`metadata "${key}" is not a string`);
  }
  return entry as Record<string, string>;
}

/** Reads one tensor's entry and copies its data. */
function readTensor(name: string, entry: unknown, data: Uint8Array): Float32Array | Float64Array {
  const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as Record<string, unknown>;
  if (dtype !== "F32" && dtype !== "F64") {
    throw new SafetensorsError(
      `tensor "${name}": dtype ${JSON.stringify(dtype)} is not F32 or F64`,
    );
  }
  const size = DTYPES[dtype];
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((value) => Number.isSafeInteger(value) && value >= 0) ||
    offsets[0] > offsets[1] || offsets[1] > data.length || (offsets[1] - offsets[0]) % size !== 0
  ) {
    throw new SafetensorsError(
      `tensor "${name}": data_offsets ${
        JSON.stringify(offsets)
      } are not a range of whole ${dtype} values within the ${data.length} data bytes`,
    );
  }
  const count = (offsets[1] - offsets[0]) / size;
  const elements = Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0)
    ? shape.reduce((a: number, b: number) => a * b, 1)
    : -1;
  if (elements !== count) {
    throw new SafetensorsError(
      `tensor "${name}": shape ${JSON.stringify(shape)} does not hold its ${count} values`,
    );
  }
  const bytes = data.slice(offsets[0], offsets[1]);
  return dtype === "F32" ? new Float32Array(bytes.buffer) : new Float64Array(bytes.buffer);
}
