/**
 * The handshake's messages (see `handshake.ts` for the protocol): their byte layouts, pure
 * encoders and decoders (what a stranger's bytes reach first, fuzzed by `tests/security/`),
 * and the reader that takes one handshake frame at a time off a connection, holding each header
 * to {@linkcode HANDSHAKE_MAX_PAYLOAD} before reading its payload.
 *
 * @module
 */

import { encodeFrame, type Frame, FRAME_HEADER_BYTES, FRAME_HELLO } from "./wire.ts";
import { PHASES } from "./types.ts";

/** The handshake's magic number, "GSMR". */
export const HANDSHAKE_MAGIC: readonly number[] = [0x47, 0x53, 0x4d, 0x52];

/** The protocol version this code speaks. */
export const HANDSHAKE_VERSION = 3;

/** Largest handshake payload accepted: every frame before authentication is held to it. */
export const HANDSHAKE_MAX_PAYLOAD = 512;

/** How long a connection may take to complete its handshake by default: 5 s. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;

/** The rank that stands for the coordinator in handshakes. */
export const COORDINATOR = 0xffff;

/** Bytes of a run id. */
export const RUN_ID_BYTES = 16;

/** Bytes of a plan hash (SHA-256). */
export const PLAN_HASH_BYTES = 32;

/** Bytes of a nonce. */
export const NONCE_BYTES = 32;
/** Bytes of a proof (an HMAC-SHA256). */
export const PROOF_BYTES = 32;
const OFFER_BYTES = 96;
/** Bytes of a challenge's payload. */
export const CHALLENGE_BYTES = 96;
const PROOF_MESSAGE_BYTES = 40;
/** Bytes of a verdict before its reason: where the server's proof ends. */
export const VERDICT_HEADER_BYTES = 42;
/** Where the server's proof starts in a verdict. */
export const VERDICT_PROOF_OFFSET = 8;
const MAX_REASON_BYTES = 400;

/** Message types, byte 5 of every handshake payload. */
export const MESSAGE_TYPE = { offer: 1, challenge: 2, proof: 3, verdict: 4 } as const;

/** What a connection carries. */
export type Channel = "control" | "mesh";
const CHANNELS: readonly Channel[] = ["control", "mesh"];

/** Verdict statuses, byte 6 of a verdict. */
export const VERDICT = {
  accepted: 0,
  plan: 1,
  rank: 2,
  world: 3,
  run: 4,
  version: 5,
  other: 6,
  /** The client's proof failed: it does not hold this run's secret (the verdict is unsigned). */
  secret: 7,
} as const;

/** A verdict status. */
export type VerdictStatus = (typeof VERDICT)[keyof typeof VERDICT];

/** The first message, from the side that connects. */
export interface Offer {
  readonly channel: Channel;
  readonly rank: number;
  readonly world: number;
  /** The rank the client means to reach ({@linkcode COORDINATOR} for the coordinator). */
  readonly target: number;
  /** The run id, or all zeros when the client learns it from the server. */
  readonly runId: Uint8Array;
  readonly planHash: Uint8Array;
  readonly nonce: Uint8Array;
}

/** The answer of the side that accepted the connection. */
export interface Challenge {
  readonly channel: Channel;
  readonly rank: number;
  readonly world: number;
  readonly runId: Uint8Array;
  readonly planHash: Uint8Array;
  readonly nonce: Uint8Array;
}

/** The server's decision on a connection. */
export interface Verdict {
  readonly status: VerdictStatus;
  readonly reason: string;
  /**
   * The server's proof over the whole exchange, the verdict included (with these bytes zero);
   * all zeros in a verdict given before the client proved the secret. Default: zeros.
   */
  readonly proof?: Uint8Array;
}

/** A handshake failed; says whether the peer had proved it holds the secret. */
export class HandshakeError extends Error {
  /**
   * Builds the error.
   *
   * @param message What failed.
   * @param member True when the peer proved the secret (a member with a wrong configuration,
   *   not a stranger).
   * @param status The verdict's status, when a verdict refused the connection.
   * @param interrupted True when the connection ended, failed or timed out before either side
   *   decided anything: what a flood of strangers does to a member's handshake, worth retrying.
   */
  constructor(
    message: string,
    readonly member = false,
    readonly status: VerdictStatus | null = null,
    readonly interrupted = false,
  ) {
    super(message);
    this.name = "HandshakeError";
  }
}

/**
 * The peer speaks another version of the handshake: the one failure a server answers before any
 * proof (with a {@linkcode VERDICT}`.version` verdict), so another version of gossamer learns why.
 * Its `name` stays `"HandshakeError"`.
 */
export class ProtocolVersionError extends HandshakeError {
  /**
   * Builds the error.
   *
   * @param version The version the peer speaks.
   */
  constructor(readonly version: number) {
    super(`speaks protocol version ${version}, this side speaks version ${HANDSHAKE_VERSION}`);
  }
}

function begin(bytes: number, type: number): { payload: Uint8Array; view: DataView } {
  const payload = new Uint8Array(bytes);
  payload.set(HANDSHAKE_MAGIC);
  payload[4] = HANDSHAKE_VERSION;
  payload[5] = type;
  return { payload, view: new DataView(payload.buffer) };
}

function checkBytes(name: string, value: Uint8Array, bytes: number): void {
  if (value.byteLength !== bytes) {
    throw new RangeError(`A handshake ${name} has ${bytes} bytes, got ${value.byteLength}`);
  }
}

function checkRank(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`A handshake ${name} must be 0..65535, got ${value}`);
  }
}

/**
 * Encodes an offer's payload.
 *
 * @param offer The fields.
 * @returns 96 bytes.
 */
export function encodeOffer(offer: Offer): Uint8Array {
  checkRank("rank", offer.rank);
  checkRank("world size", offer.world);
  checkRank("target", offer.target);
  checkBytes("run id", offer.runId, RUN_ID_BYTES);
  checkBytes("plan hash", offer.planHash, PLAN_HASH_BYTES);
  checkBytes("nonce", offer.nonce, NONCE_BYTES);
  const { payload, view } = begin(OFFER_BYTES, MESSAGE_TYPE.offer);
  payload[6] = CHANNELS.indexOf(offer.channel);
  view.setUint16(8, offer.rank, true);
  view.setUint16(10, offer.world, true);
  view.setUint16(12, offer.target, true);
  payload.set(offer.runId, 16);
  payload.set(offer.planHash, 32);
  payload.set(offer.nonce, 64);
  return payload;
}

/**
 * Encodes a challenge's payload.
 *
 * @param challenge The fields.
 * @returns 96 bytes.
 */
export function encodeChallenge(challenge: Challenge): Uint8Array {
  checkRank("rank", challenge.rank);
  checkRank("world size", challenge.world);
  checkBytes("run id", challenge.runId, RUN_ID_BYTES);
  checkBytes("plan hash", challenge.planHash, PLAN_HASH_BYTES);
  checkBytes("nonce", challenge.nonce, NONCE_BYTES);
  const { payload, view } = begin(CHALLENGE_BYTES, MESSAGE_TYPE.challenge);
  payload[6] = CHANNELS.indexOf(challenge.channel);
  view.setUint16(8, challenge.rank, true);
  view.setUint16(10, challenge.world, true);
  payload.set(challenge.runId, 16);
  payload.set(challenge.planHash, 32);
  payload.set(challenge.nonce, 64);
  return payload;
}

/**
 * Encodes a proof's payload.
 *
 * @param proof The client's HMAC.
 * @returns 40 bytes.
 */
export function encodeProof(proof: Uint8Array): Uint8Array {
  checkBytes("proof", proof, PROOF_BYTES);
  const { payload } = begin(PROOF_MESSAGE_BYTES, MESSAGE_TYPE.proof);
  payload.set(proof, 8);
  return payload;
}

/**
 * Encodes a verdict's payload; a long reason is cut to 400 bytes (at a character boundary).
 *
 * @param verdict Status, reason and the server's proof (zeros when not given).
 * @returns 42 + n bytes.
 */
export function encodeVerdict(verdict: Verdict): Uint8Array {
  if (verdict.proof !== undefined) checkBytes("proof", verdict.proof, PROOF_BYTES);
  let reason = new TextEncoder().encode(verdict.reason);
  if (reason.byteLength > MAX_REASON_BYTES) {
    let end = MAX_REASON_BYTES;
    while (end > 0 && (reason[end]! & 0xc0) === 0x80) end--;
    reason = reason.slice(0, end);
  }
  const { payload, view } = begin(VERDICT_HEADER_BYTES + reason.byteLength, MESSAGE_TYPE.verdict);
  payload[6] = verdict.status;
  if (verdict.proof !== undefined) payload.set(verdict.proof, VERDICT_PROOF_OFFSET);
  view.setUint16(VERDICT_PROOF_OFFSET + PROOF_BYTES, reason.byteLength, true);
  payload.set(reason, VERDICT_HEADER_BYTES);
  return payload;
}

/** Checks magic, version and type; returns a view of the payload. */
function open(payload: Uint8Array, type: number, bytes: number | null, name: string): DataView {
  if (payload.byteLength < 6) {
    throw new HandshakeError(`sent ${payload.byteLength} bytes, too short for a handshake`);
  }
  if (HANDSHAKE_MAGIC.some((byte, i) => payload[i] !== byte)) {
    throw new HandshakeError("does not speak gossamer's protocol (wrong magic number)");
  }
  if (payload[4] !== HANDSHAKE_VERSION) throw new ProtocolVersionError(payload[4]!);
  if (payload[5] !== type) {
    throw new HandshakeError(`sent handshake message type ${payload[5]} where ${name} belongs`);
  }
  if (bytes !== null && payload.byteLength !== bytes) {
    throw new HandshakeError(`sent ${payload.byteLength} bytes for ${name} of ${bytes} bytes`);
  }
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
}

function channelAt(payload: Uint8Array): Channel {
  const channel = CHANNELS[payload[6]!];
  if (channel === undefined) throw new HandshakeError(`named an unknown channel ${payload[6]}`);
  return channel;
}

/**
 * Decodes an offer.
 *
 * @param payload The frame's payload.
 * @returns The offer (its byte fields are copies).
 * @throws {HandshakeError} When the payload is not an offer of this version.
 */
export function decodeOffer(payload: Uint8Array): Offer {
  const view = open(payload, MESSAGE_TYPE.offer, OFFER_BYTES, "an offer");
  return {
    channel: channelAt(payload),
    rank: view.getUint16(8, true),
    world: view.getUint16(10, true),
    target: view.getUint16(12, true),
    runId: payload.slice(16, 32),
    planHash: payload.slice(32, 64),
    nonce: payload.slice(64, 96),
  };
}

/**
 * Decodes a challenge.
 *
 * @param payload The frame's payload.
 * @returns The challenge (its byte fields are copies).
 * @throws {HandshakeError} When the payload is not a challenge of this version.
 */
export function decodeChallenge(payload: Uint8Array): Challenge {
  const view = open(payload, MESSAGE_TYPE.challenge, CHALLENGE_BYTES, "a challenge");
  return {
    channel: channelAt(payload),
    rank: view.getUint16(8, true),
    world: view.getUint16(10, true),
    runId: payload.slice(16, 32),
    planHash: payload.slice(32, 64),
    nonce: payload.slice(64, 96),
  };
}

/**
 * Decodes a proof.
 *
 * @param payload The frame's payload.
 * @returns The client's HMAC.
 * @throws {HandshakeError} When the payload is not a proof of this version.
 */
export function decodeProof(payload: Uint8Array): Uint8Array {
  open(payload, MESSAGE_TYPE.proof, PROOF_MESSAGE_BYTES, "a proof");
  return payload.slice(8, 40);
}

/**
 * Decodes a verdict.
 *
 * @param payload The frame's payload.
 * @returns Status, reason and the server's proof (a copy).
 * @throws {HandshakeError} When the payload is not a verdict of this version.
 */
export function decodeVerdict(payload: Uint8Array): Verdict & { readonly proof: Uint8Array } {
  const view = open(payload, MESSAGE_TYPE.verdict, null, "a verdict");
  if (payload.byteLength < VERDICT_HEADER_BYTES) {
    throw new HandshakeError(`sent a verdict of ${payload.byteLength} bytes`);
  }
  const length = view.getUint16(VERDICT_PROOF_OFFSET + PROOF_BYTES, true);
  if (length > MAX_REASON_BYTES || VERDICT_HEADER_BYTES + length !== payload.byteLength) {
    throw new HandshakeError(`sent a verdict whose reason overruns it (${length} bytes)`);
  }
  const status = payload[6]!;
  if (!(Object.values(VERDICT) as number[]).includes(status)) {
    throw new HandshakeError(`sent a verdict of unknown status ${status}`);
  }
  const reason = new TextDecoder().decode(payload.subarray(VERDICT_HEADER_BYTES));
  const proof = payload.slice(VERDICT_PROOF_OFFSET, VERDICT_PROOF_OFFSET + PROOF_BYTES);
  return { status: status as VerdictStatus, reason, proof };
}

/**
 * A handshake message as a frame.
 *
 * @param source The sender's rank ({@linkcode COORDINATOR} for the coordinator).
 * @param payload An encoded message.
 * @returns The frame bytes.
 */
export function handshakeFrame(source: number, payload: Uint8Array): Uint8Array {
  return encodeFrame(
    { tag: 0, phase: "control", source, kind: FRAME_HELLO },
    payload,
    HANDSHAKE_MAX_PAYLOAD,
  );
}

/** Bytes read from a connection per call during the handshake. */
const HANDSHAKE_READ_BYTES = 4096;

/**
 * Reads handshake frames one at a time from a connection, holding each header to the
 * handshake's limits before reading its payload, and keeps whatever follows the last frame read
 * (the first frames of the authenticated stream) for the reader that takes over.
 */
export class HandshakeReader {
  readonly #buffer = new Uint8Array(HANDSHAKE_READ_BYTES);
  #filled = 0;

  /**
   * Feeds bytes as if read from the connection (for tests and fuzzing).
   *
   * @param bytes At most the free space of the reader's buffer.
   */
  feed(bytes: Uint8Array): void {
    if (bytes.byteLength > this.#buffer.byteLength - this.#filled) {
      throw new RangeError("The handshake reader's buffer is full");
    }
    this.#buffer.set(bytes, this.#filled);
    this.#filled += bytes.byteLength;
  }

  /**
   * The next complete handshake frame among the bytes fed so far, or `null` if more are needed.
   *
   * @returns A frame whose payload is a copy.
   * @throws {HandshakeError} When a header is not a handshake frame within the limits.
   */
  take(): Frame | null {
    if (this.#filled < FRAME_HEADER_BYTES) return null;
    const view = new DataView(this.#buffer.buffer);
    const length = view.getUint32(0, true);
    const kind = view.getUint8(9);
    if (kind !== FRAME_HELLO || length > HANDSHAKE_MAX_PAYLOAD) {
      throw new HandshakeError(
        kind === FRAME_HELLO
          ? `announced a handshake message of ${length} bytes (at most ${HANDSHAKE_MAX_PAYLOAD})`
          : `sent something that is not a gossamer handshake (frame kind ${kind}, ${length} bytes)`,
      );
    }
    if (PHASES[view.getUint8(8)] !== "control") {
      throw new HandshakeError("sent a handshake frame outside the control phase");
    }
    const end = FRAME_HEADER_BYTES + length;
    if (this.#filled < end) return null;
    const frame: Frame = {
      tag: view.getUint32(4, true),
      phase: "control",
      kind,
      source: view.getUint16(10, true),
      payload: this.#buffer.slice(FRAME_HEADER_BYTES, end),
    };
    this.#buffer.copyWithin(0, end, this.#filled);
    this.#filled -= end;
    return frame;
  }

  /**
   * Reads from `conn` until a whole handshake frame is in.
   *
   * @param conn The connection.
   * @returns The frame.
   * @throws {HandshakeError} When the connection ends first or sends something else.
   */
  async next(conn: Deno.Conn): Promise<Frame> {
    while (true) {
      const frame = this.take();
      if (frame !== null) return frame;
      const n = await conn.read(this.#buffer.subarray(this.#filled));
      if (n === null) {
        throw new HandshakeError("closed the connection during the handshake", false, null, true);
      }
      this.#filled += n;
    }
  }

  /** The bytes read after the last frame taken (a copy); they belong to the next reader. */
  leftover(): Uint8Array {
    return this.#buffer.slice(0, this.#filled);
  }
}

/**
 * Hex digits of some bytes, for messages.
 *
 * @param bytes The bytes.
 * @returns Two lowercase hex digits per byte.
 */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The bytes of a hex string.
 *
 * @param hex An even number of hex digits.
 * @returns The bytes.
 * @throws {RangeError} When the text is not hex.
 */
export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new RangeError(`"${hex}" is not hex`);
  return Uint8Array.from(
    { length: hex.length / 2 },
    (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16),
  );
}

/** How a rank is named in messages. */
export function rankName(rank: number): string {
  return rank === COORDINATOR ? "the coordinator" : `worker ${rank}`;
}
