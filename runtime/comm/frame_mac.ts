/**
 * Authentication of the frames that follow a handshake: every frame is followed on the wire by
 * a {@linkcode FRAME_MAC_BYTES}-byte MAC, HMAC-SHA256 truncated to 128 bits, under a key of its
 * own direction of its own connection (derived in the handshake, `handshake.ts`), over
 *
 * ```text
 * u64 sequence number (little-endian) ‖ the frame's 12-byte header ‖ its payload
 * ```
 *
 * The sequence number is not sent: each side counts the frames of each direction from 0, so a
 * frame changed, forged, replayed (from this connection or another), reordered, or dropped with
 * later frames let through fails its MAC at the receiver. What a MAC cannot tell is a peer that
 * stops sending: someone in the path can still cut a connection, and the run then fails as it
 * would for a dead peer.
 *
 * The HMAC is `node:crypto`'s, synchronous and incremental: a frame is signed when it is queued
 * (so the sequence numbers follow the order of the queue) and checked as its last byte arrives,
 * with no copy of its payload.
 *
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import { encodeFrameHeader, type Frame } from "./wire.ts";

/** Bytes of the MAC that follows every authenticated frame. */
export const FRAME_MAC_BYTES = 16;

/** Bytes of a session key. */
export const SESSION_KEY_BYTES = 32;

/**
 * One direction of one connection: its key and the number of frames it has carried.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FrameMac } from "./frame_mac.ts";
 * const key = new Uint8Array(32).fill(7);
 * const [sender, receiver] = [new FrameMac(key), new FrameMac(key)];
 * const frame = new Uint8Array([1, 2, 3]);
 * const mac = sender.sign([frame]);
 * assert.ok(receiver.check([frame], mac));
 * // The same frame again is a replay: the receiver expects frame 1 now.
 * assert.ok(!receiver.check([frame], mac));
 * ```
 */
export class FrameMac {
  readonly #key: Uint8Array;
  readonly #counter = new Uint8Array(8);
  #sequence = 0;

  /**
   * A direction at its first frame.
   *
   * @param key {@linkcode SESSION_KEY_BYTES} bytes from the handshake.
   */
  constructor(key: Uint8Array) {
    if (key.byteLength !== SESSION_KEY_BYTES) {
      throw new RangeError(`A session key has ${SESSION_KEY_BYTES} bytes, got ${key.byteLength}`);
    }
    this.#key = key.slice();
  }

  /** The sequence number of the next frame (how many frames came before it). */
  get sequence(): number {
    return this.#sequence;
  }

  /**
   * The MAC of the next frame, whose bytes are `parts` back to back; counts the frame.
   *
   * @param parts The frame's header and payload.
   * @returns {@linkcode FRAME_MAC_BYTES} bytes.
   */
  sign(parts: readonly Uint8Array[]): Uint8Array {
    const hmac = createHmac("sha256", this.#key);
    new DataView(this.#counter.buffer).setBigUint64(0, BigInt(this.#sequence++), true);
    hmac.update(this.#counter);
    for (const part of parts) hmac.update(part);
    const digest = hmac.digest();
    return new Uint8Array(digest.buffer, digest.byteOffset, FRAME_MAC_BYTES).slice();
  }

  /**
   * Whether `mac` is the MAC of the next frame; counts the frame either way.
   *
   * @param parts The frame's header and payload, as received.
   * @param mac The MAC that followed it.
   * @returns `true` when it matches.
   */
  check(parts: readonly Uint8Array[], mac: Uint8Array): boolean {
    const expected = this.sign(parts);
    return mac.byteLength === FRAME_MAC_BYTES && timingSafeEqual(expected, mac);
  }

  /**
   * Checks a decoded frame (its header is encoded again from its fields).
   *
   * @param frame A frame decoded with a {@linkcode FRAME_MAC_BYTES}-byte trailer.
   * @returns `true` when its MAC matches.
   */
  checkFrame(frame: Frame): boolean {
    const header = encodeFrameHeader(frame, frame.payload.byteLength, Number.MAX_SAFE_INTEGER);
    return this.check([header, frame.payload], frame.trailer ?? new Uint8Array());
  }
}

/** The keys of one authenticated connection, one per direction. */
export interface SessionKeys {
  /** Signs the frames this side writes. */
  readonly send: FrameMac;
  /** Checks the frames this side reads. */
  readonly receive: FrameMac;
}

/**
 * A frame whose MAC failed: the connection was altered on its way. Ends the connection.
 */
export class FrameAuthError extends Error {
  /**
   * The error of one frame.
   *
   * @param what What the frame was ("control frame", "mesh frame").
   * @param peer Who sent it, in words ("worker 1", "the coordinator").
   * @param sequence Its sequence number on the connection.
   */
  constructor(what: string, peer: string, sequence: number) {
    super(
      `${what.charAt(0).toUpperCase()}${
        what.slice(1)
      } ${sequence} from ${peer} failed authentication: the connection was altered on its way (a frame changed, forged, replayed, reordered or dropped by someone in the path without the run secret)`,
    );
    this.name = "FrameAuthError";
  }
}
