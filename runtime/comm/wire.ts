/**
 * The wire format shared by every transport: length-prefixed binary frames.
 *
 * A frame is a fixed 12-byte header followed by the payload bytes. All header fields are
 * little-endian:
 *
 * | offset | size | field                                                   |
 * | -----: | ---: | ------------------------------------------------------- |
 * |      0 |    4 | payload length in bytes (u32)                           |
 * |      4 |    4 | tag (u32), chosen by the communicator per collective    |
 * |      8 |    1 | phase, an index into {@linkcode PHASES} (u8)            |
 * |      9 |    1 | kind: one of {@linkcode FRAME_KINDS} (u8)               |
 * |     10 |    2 | source rank (u16)                                       |
 *
 * The decoder checks every header field (length against its limit, kind, phase) as soon as
 * the 12 header bytes are in, before it allocates anything for the payload: a stream that is
 * not ours (an HTTP probe's `GET ` reads as a 517 MiB payload) is refused at its header, and a
 * connection that has not authenticated yet is read with a limit of a few hundred bytes
 * (`handshake.ts`).
 *
 * On an authenticated stream (every control connection, and the mesh with `macFrames`) each frame
 * is followed by a 16-byte MAC outside its length (`frame_mac.ts`); a decoder built with
 * {@linkcode FrameDecoderOptions.trailerBytes} reads it and hands it on as
 * {@linkcode Frame.trailer}.
 *
 * Float vectors travel as their raw float32 bytes (little-endian, the byte order of every
 * platform Deno runs on), never as JSON. The memory transport counts exactly
 * {@linkcode frameBytes} per message, the bytes the TCP transport writes for it.
 *
 * @module
 */

import { type Phase, PHASES } from "./types.ts";

/** Bytes in a frame header. */
export const FRAME_HEADER_BYTES = 12;

/** Default largest payload a frame may carry: 1 GiB. */
export const MAX_FRAME_PAYLOAD = 1 << 30;

/** Frame kind of a message between ranks. */
export const FRAME_DATA = 0;

/** Frame kind of the handshake messages that open every connection (`handshake.ts`). */
export const FRAME_HELLO = 1;

/**
 * Frame kind of a heartbeat: an empty frame a communication thread sends to an idle peer about
 * once a second, so silence means a dead or frozen process rather than a busy one. Never counted
 * in the traffic statistics.
 */
export const FRAME_HEARTBEAT = 2;

/** Every frame kind this version of the wire format knows. */
export const FRAME_KINDS: readonly number[] = [FRAME_DATA, FRAME_HELLO, FRAME_HEARTBEAT];

/** A decoded frame. */
export interface Frame {
  /** The tag the message was sent with. */
  readonly tag: number;
  /** The traffic phase it is counted in. */
  readonly phase: Phase;
  /** One of {@linkcode FRAME_KINDS}. */
  readonly kind: number;
  /** Rank of the sender. */
  readonly source: number;
  /** The payload, in its own buffer (byte offset 0, so it can be viewed as floats). */
  readonly payload: Uint8Array;
  /**
   * The bytes that followed the payload, outside its length: a decoder's trailer (a frame's
   * MAC, `frame_mac.ts`); absent when the decoder reads none.
   */
  readonly trailer?: Uint8Array;
}

/**
 * Bytes written on the wire for a payload of `payloadBytes` bytes: header plus payload.
 *
 * @param payloadBytes Payload length in bytes.
 * @returns The frame length in bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(frameBytes(400), 412);
 * ```
 */
export function frameBytes(payloadBytes: number): number {
  return FRAME_HEADER_BYTES + payloadBytes;
}

/** The header fields of a frame to encode. */
export interface FrameHeader {
  /** Message tag, a u32. */
  readonly tag: number;
  /** Traffic phase. */
  readonly phase: Phase;
  /** Rank of the sender. */
  readonly source: number;
  /** One of {@linkcode FRAME_KINDS} (default {@linkcode FRAME_DATA}). */
  readonly kind?: number;
}

/**
 * Encodes one frame into a new buffer (header and payload, copied).
 *
 * @param header Tag, phase, kind and source rank.
 * @param payload The payload bytes.
 * @param maxPayload Largest payload accepted (default {@linkcode MAX_FRAME_PAYLOAD}).
 * @returns The frame bytes.
 * @throws {RangeError} When the payload is larger than `maxPayload` or a header field is out of
 * range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const frame = encodeFrame({ tag: 7, phase: "base", source: 2 }, new Uint8Array([1, 2, 3]));
 * assert.equal(frame.byteLength, FRAME_HEADER_BYTES + 3);
 * ```
 */
export function encodeFrame(
  header: FrameHeader,
  payload: Uint8Array,
  maxPayload: number = MAX_FRAME_PAYLOAD,
): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
  writeHeader(frame, header, payload.byteLength, maxPayload);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/**
 * Encodes only the header of a frame, for writers that send the payload from its own buffer.
 *
 * @param header Tag, phase, kind and source rank.
 * @param payloadBytes Length of the payload that follows.
 * @param maxPayload Largest payload accepted (default {@linkcode MAX_FRAME_PAYLOAD}).
 * @returns The {@linkcode FRAME_HEADER_BYTES} header bytes.
 * @throws {RangeError} As {@linkcode encodeFrame}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const header = encodeFrameHeader({ tag: 1, phase: "base", source: 0 }, 8);
 * assert.deepEqual([...header.subarray(0, 4)], [8, 0, 0, 0]);
 * ```
 */
export function encodeFrameHeader(
  header: FrameHeader,
  payloadBytes: number,
  maxPayload: number = MAX_FRAME_PAYLOAD,
): Uint8Array {
  const bytes = new Uint8Array(FRAME_HEADER_BYTES);
  writeHeader(bytes, header, payloadBytes, maxPayload);
  return bytes;
}

function writeHeader(
  target: Uint8Array,
  header: FrameHeader,
  payloadBytes: number,
  maxPayload: number,
): void {
  checkPayloadLength(payloadBytes, maxPayload);
  checkField("tag", header.tag, 0xffff_ffff);
  checkField("source rank", header.source, 0xffff);
  const kind = header.kind ?? FRAME_DATA;
  checkField("kind", kind, 0xff);
  const phase = PHASES.indexOf(header.phase);
  if (phase < 0) throw new RangeError(`Cannot encode frame: unknown phase "${header.phase}"`);
  const view = new DataView(target.buffer, target.byteOffset, FRAME_HEADER_BYTES);
  view.setUint32(0, payloadBytes, true);
  view.setUint32(4, header.tag, true);
  view.setUint8(8, phase);
  view.setUint8(9, kind);
  view.setUint16(10, header.source, true);
}

/** Options of {@linkcode FrameDecoder}. */
export interface FrameDecoderOptions {
  /** The frame kinds accepted (default {@linkcode FRAME_KINDS}); any other kind is refused. */
  readonly kinds?: readonly number[];
  /**
   * Bytes that follow every payload outside its length (default 0): the MAC of an
   * authenticated stream (`frame_mac.ts`), handed on as {@linkcode Frame.trailer}.
   */
  readonly trailerBytes?: number;
}

/**
 * Incremental frame decoder: feed it byte chunks split anywhere, get whole frames back.
 *
 * Each payload is copied once into its own buffer, so payloads can be viewed as floats and the
 * chunk buffers can be reused by the caller. Every header is checked before its payload is
 * allocated: the length against {@linkcode FrameDecoder.maxPayload}, the kind against the
 * accepted kinds and the phase index against {@linkcode PHASES}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const frame = encodeFrame({ tag: 1, phase: "outer", source: 0 }, new Uint8Array([9, 8]));
 * const decoder = new FrameDecoder();
 * assert.deepEqual(decoder.push(frame.subarray(0, 5)), []);
 * const [decoded] = decoder.push(frame.subarray(5));
 * assert.deepEqual([...decoded!.payload], [9, 8]);
 * ```
 */
export class FrameDecoder {
  /**
   * Largest payload accepted; a header announcing more means a corrupt or foreign stream. It
   * may be raised once the peer has authenticated (it applies from the next header on).
   */
  maxPayload: number;
  readonly #allocate: (bytes: number, tag: number) => Uint8Array;
  readonly #kinds: readonly number[];
  readonly #header = new Uint8Array(FRAME_HEADER_BYTES);
  readonly #view = new DataView(this.#header.buffer);
  #headerFilled = 0;
  #payload: Uint8Array | null = null;
  #payloadFilled = 0;
  readonly #trailer: Uint8Array;
  #trailerFilled = 0;

  /**
   * Creates a decoder at the start of a stream.
   *
   * @param maxPayload Largest payload accepted (default {@linkcode MAX_FRAME_PAYLOAD}).
   * @param allocate Returns a buffer of exactly the given length, 4-byte aligned, for the
   * payload of a frame with the given tag (default: a new `Uint8Array`); lets a transport reuse
   * payload buffers, or read a payload straight into where its receiver wants it. It is called
   * only for a header that passed every check.
   * @param options The frame kinds accepted.
   */
  constructor(
    maxPayload: number = MAX_FRAME_PAYLOAD,
    allocate: (bytes: number, tag: number) => Uint8Array = (bytes) => new Uint8Array(bytes),
    options: FrameDecoderOptions = {},
  ) {
    this.maxPayload = maxPayload;
    this.#allocate = allocate;
    this.#kinds = options.kinds ?? FRAME_KINDS;
    this.#trailer = new Uint8Array(options.trailerBytes ?? 0);
  }

  /** Whether the decoder holds part of a frame (a stream ending now was cut mid-frame). */
  get partial(): boolean {
    return this.#headerFilled > 0;
  }

  /**
   * Consumes a chunk of bytes.
   *
   * @param chunk The next bytes of the stream (not retained).
   * @returns The frames completed by this chunk, in stream order.
   * @throws {RangeError} When a header announces a payload larger than the maximum, an unknown
   * kind or an unknown phase; the decoder is then unusable (the stream is not ours).
   */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let at = 0;
    while (at < chunk.byteLength) {
      if (this.#headerFilled < FRAME_HEADER_BYTES) {
        const take = Math.min(FRAME_HEADER_BYTES - this.#headerFilled, chunk.byteLength - at);
        this.#header.set(chunk.subarray(at, at + take), this.#headerFilled);
        this.#headerFilled += take;
        at += take;
        if (this.#headerFilled < FRAME_HEADER_BYTES) break;
        this.#startPayload();
      }
      const payload = this.#payload!;
      const take = Math.min(payload.byteLength - this.#payloadFilled, chunk.byteLength - at);
      payload.set(chunk.subarray(at, at + take), this.#payloadFilled);
      this.#payloadFilled += take;
      at += take;
      if (this.#payloadFilled < payload.byteLength) continue;
      const trailer = this.#trailer;
      const rest = Math.min(trailer.byteLength - this.#trailerFilled, chunk.byteLength - at);
      trailer.set(chunk.subarray(at, at + rest), this.#trailerFilled);
      this.#trailerFilled += rest;
      at += rest;
      if (this.#trailerFilled === trailer.byteLength) frames.push(this.#finish(payload));
    }
    return frames;
  }

  /**
   * The unfilled rest of the payload being decoded, so a reader can read straight into it
   * instead of copying through {@linkcode FrameDecoder.push}; `null` between payloads.
   *
   * @returns A view of the payload buffer, or `null`.
   */
  unfilledPayload(): Uint8Array | null {
    return this.#payload?.subarray(this.#payloadFilled) ?? null;
  }

  /**
   * Records bytes written into the view returned by {@linkcode FrameDecoder.unfilledPayload}.
   *
   * @param bytes How many bytes were written at its start.
   * @returns The frame, when these bytes completed it; otherwise `null`.
   * @throws {RangeError} When no payload is pending or `bytes` exceeds what it lacks.
   */
  filledPayload(bytes: number): Frame | null {
    const payload = this.#payload;
    if (payload === null || bytes > payload.byteLength - this.#payloadFilled) {
      throw new RangeError(`Cannot record ${bytes} payload bytes: the payload lacks fewer`);
    }
    this.#payloadFilled += bytes;
    // With a trailer the frame ends with its trailer, which comes through push().
    return this.#payloadFilled === payload.byteLength && this.#trailer.byteLength === 0
      ? this.#finish(payload)
      : null;
  }

  /** Checks a complete header, then allocates its payload. */
  #startPayload(): void {
    const view = this.#view;
    const length = view.getUint32(0, true);
    checkPayloadLength(length, this.maxPayload);
    const kind = view.getUint8(9);
    if (!this.#kinds.includes(kind)) {
      throw new RangeError(`Cannot decode frame: unknown kind ${kind}`);
    }
    if (PHASES[view.getUint8(8)] === undefined) {
      throw new RangeError(`Cannot decode frame: unknown phase index ${view.getUint8(8)}`);
    }
    this.#payload = length === 0 ? EMPTY : this.#allocate(length, view.getUint32(4, true));
    this.#payloadFilled = 0;
  }

  #finish(payload: Uint8Array): Frame {
    const view = this.#view;
    const frame: Frame = {
      tag: view.getUint32(4, true),
      phase: PHASES[view.getUint8(8)]!,
      kind: view.getUint8(9),
      source: view.getUint16(10, true),
      payload: payload === EMPTY ? new Uint8Array(0) : payload,
      ...(this.#trailer.byteLength === 0 ? {} : { trailer: this.#trailer.slice() }),
    };
    this.#trailerFilled = 0;
    this.#headerFilled = 0;
    this.#payload = null;
    this.#payloadFilled = 0;
    return frame;
  }
}

/** The payload of every empty frame while it is decoded (a fresh one is handed out). */
const EMPTY = new Uint8Array(0);

/**
 * Views a float vector as its bytes, without copying.
 *
 * @param data The floats.
 * @returns A byte view of the same memory.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(floatsAsBytes(new Float32Array(3)).byteLength, 12);
 * ```
 */
export function floatsAsBytes(data: Float32Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Views bytes as float32 values: without copying when the bytes are 4-byte aligned, as a copy
 * otherwise.
 *
 * @param bytes The bytes, a multiple of 4 long.
 * @returns The floats.
 * @throws {RangeError} When the length is not a multiple of 4.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const floats = new Float32Array([1.5, -2]);
 * assert.deepEqual([...bytesAsFloats(floatsAsBytes(floats))], [1.5, -2]);
 * ```
 */
export function bytesAsFloats(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) {
    throw new RangeError(
      `Cannot read float32 values: ${bytes.byteLength} bytes is not a multiple of 4`,
    );
  }
  if (bytes.byteOffset % 4 === 0) {
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  }
  return new Float32Array(bytes.slice().buffer);
}

function checkPayloadLength(length: number, max: number): void {
  if (length > max) {
    throw new RangeError(
      `Frame payload of ${length} bytes exceeds the maximum of ${max} bytes`,
    );
  }
}

function checkField(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Cannot encode frame: ${name} ${value} is outside 0..${max}`);
  }
}
