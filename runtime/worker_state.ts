/**
 * A worker's state at a checkpoint, and its encoding for the control channel: a JSON header
 * naming each buffer (name, precision, length) and one body of raw bytes, so float32 and float64
 * values cross the connection exactly. Shared by the worker, which sends its state to the
 * coordinator, and the coordinator, which sends it back when a run resumes.
 *
 * @module
 */

import type { Tensor } from "./safetensors.ts";

export type { Tensor };

/** What a worker's checkpoint holds. */
export interface WorkerState {
  /** Every buffer of the worker's step driver (copies), the model included. */
  readonly buffers: readonly Tensor[];
  /** The virtual clock's time; `null` in real time. */
  readonly virtualMs: number | null;
}

/** The JSON half of an encoded state. */
export interface StateHeader {
  readonly names: readonly string[];
  /** `"F32"` or `"F64"` per buffer. */
  readonly dtypes: readonly ("F32" | "F64")[];
  /** Values per buffer. */
  readonly lengths: readonly number[];
  readonly virtualMs: number | null;
}

/**
 * Encodes a state as a header and a body.
 *
 * @param state The state.
 * @returns The header (JSON) and the body (every buffer's bytes, in order).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeState, encodeState } from "./worker_state.ts";
 *
 * const state = {
 *   buffers: [{ name: "x", data: Float32Array.of(1, 2) }, { name: "u", data: Float64Array.of(3) }],
 *   virtualMs: null,
 * };
 * const { header, body } = encodeState(state);
 * assert.deepEqual(decodeState(header, body), state);
 * ```
 */
export function encodeState(state: WorkerState): { header: StateHeader; body: Uint8Array } {
  const total = state.buffers.reduce((sum, { data }) => sum + data.byteLength, 0);
  const body = new Uint8Array(total);
  let at = 0;
  for (const { data } of state.buffers) {
    body.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return {
    header: {
      names: state.buffers.map((buffer) => buffer.name),
      dtypes: state.buffers.map((buffer) => buffer.data instanceof Float64Array ? "F64" : "F32"),
      lengths: state.buffers.map((buffer) => buffer.data.length),
      virtualMs: state.virtualMs,
    },
    body,
  };
}

/**
 * Decodes a state, checking the header against the body.
 *
 * @param header The JSON half.
 * @param body The bytes.
 * @returns The state, in arrays of its own.
 * @throws {RangeError} When the header does not describe the body.
 */
export function decodeState(header: StateHeader, body: Uint8Array): WorkerState {
  const { names, dtypes, lengths } = header;
  if (
    !Array.isArray(names) || !Array.isArray(dtypes) || !Array.isArray(lengths) ||
    names.length !== dtypes.length || names.length !== lengths.length
  ) {
    throw new RangeError("Cannot decode a worker state: its header is malformed");
  }
  let at = 0;
  const buffers = names.map((name, index) => {
    const size = dtypes[index] === "F64" ? 8 : 4;
    const length = lengths[index]!;
    if (!Number.isSafeInteger(length) || length < 0 || at + length * size > body.length) {
      throw new RangeError(`Cannot decode a worker state: buffer "${name}" overruns the body`);
    }
    const bytes = body.slice(at, at + length * size);
    at += length * size;
    return {
      name,
      data: size === 8 ? new Float64Array(bytes.buffer) : new Float32Array(bytes.buffer),
    };
  });
  if (at !== body.length) {
    throw new RangeError(`Cannot decode a worker state: ${body.length - at} bytes left over`);
  }
  return { buffers, virtualMs: header.virtualMs ?? null };
}

/**
 * A state as one byte string, for sending it to a peer (an elastic run's joining worker gets a
 * live worker's state this way): the header's length (4 bytes, little-endian), the header as
 * JSON, then the body.
 *
 * @param state The state.
 * @returns The bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { packState, unpackState } from "./worker_state.ts";
 *
 * const state = { buffers: [{ name: "x", data: Float32Array.of(1, 2) }], virtualMs: null };
 * assert.deepEqual(unpackState(packState(state)), state);
 * ```
 */
export function packState(state: WorkerState): Uint8Array {
  const { header, body } = encodeState(state);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(4 + json.length + body.length);
  new DataView(bytes.buffer).setUint32(0, json.length, true);
  bytes.set(json, 4);
  bytes.set(body, 4 + json.length);
  return bytes;
}

/**
 * Reads {@linkcode packState}'s bytes.
 *
 * @param bytes The bytes.
 * @returns The state, in arrays of its own.
 * @throws {RangeError} When the bytes are not a packed state.
 */
export function unpackState(bytes: Uint8Array): WorkerState {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = bytes.length >= 4 ? view.getUint32(0, true) : Infinity;
  if (4 + length > bytes.length) {
    throw new RangeError("Cannot decode a worker state: its header overruns the bytes");
  }
  let header: StateHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
  } catch {
    throw new RangeError("Cannot decode a worker state: its header is not JSON");
  }
  return decodeState(header, bytes.subarray(4 + length));
}
