/**
 * The control channel between the coordinator and its workers: one TCP (or TLS) connection per
 * worker to the coordinator's rendezvous address, used by thread workers and process workers
 * alike. It opens with the authenticated handshake of `comm/handshake.ts`; what follows is read
 * by {@linkcode readControl}.
 *
 * Every frame after the handshake is followed by its MAC under the connection's session key of
 * its direction, over an implicit sequence number and the frame (`comm/frame_mac.ts`): someone
 * in the path without the secret cannot change, forge, replay, reorder or drop a message (a
 * `done` with other parameters, a second `metrics`) without the reader noticing at that frame,
 * which ends the connection with a {@linkcode FrameAuthError} naming the sender.
 *
 * A message is a JSON header plus an optional binary body (raw float32 parameters are sent as
 * bytes, never as JSON numbers), carried in one frame of the mesh's own wire format, so there is
 * one framing codec in the runtime. Frames are decoded as they arrive: each payload is allocated
 * once, when its header has passed the size limit, and large payloads are read straight into
 * it, so a message costs time linear in its size.
 *
 * @module
 */

import {
  encodeFrame,
  type Frame,
  FRAME_DATA,
  FrameDecoder,
  MAX_FRAME_PAYLOAD,
} from "./comm/wire.ts";
import { FRAME_MAC_BYTES, FrameAuthError, type FrameMac } from "./comm/frame_mac.ts";
import { writeAll } from "./comm/write_all.ts";
import type { MetricsLine } from "./metrics.ts";
import type { StateHeader } from "./worker_state.ts";
import type { TensorLayout } from "./models/types.ts";

/** What a worker tells the coordinator. */
export type WorkerMessage =
  | {
    readonly type: "hello";
    readonly rank: number;
    /** `host:port` of the worker's mesh listener. */
    readonly address: string;
    readonly backend: string;
    readonly backendReason: string;
    readonly tfjsVersion: string;
    /** Workers in this worker's shared-memory group (1: none; all of them: one process). */
    readonly sharedGroup?: number;
  }
  | { readonly type: "metrics"; readonly lines: readonly MetricsLine[] }
  | {
    readonly type: "done";
    readonly rank: number;
    /** The worker's final reported model travels in the body. */
    readonly parameters: number;
    /** The named tensors the model's flat vector is made of (`TrainableModel.tensors`). */
    readonly tensors: readonly TensorLayout[];
  }
  | {
    readonly type: "checkpoint";
    readonly rank: number;
    /** The steps done when the state was taken. */
    readonly step: number;
    /** The state's buffers, described; their bytes travel in the body. */
    readonly state: StateHeader;
  }
  | {
    /**
     * The worker has awaited a collective for a while (`waiting: true`), or no longer does.
     * The coordinator does not count it as progress; it tells a worker that waits on its peers
     * from one that stalled (`coordinator/stalled.ts`).
     */
    readonly type: "waiting";
    readonly rank: number;
    readonly waiting: boolean;
  }
  | {
    readonly type: "error";
    readonly rank: number;
    readonly message: string;
    /** For a peer failure (disconnect, timeout): the rank this worker blames. */
    readonly peer?: number;
  }
  | {
    /**
     * Elastic runs: this worker cannot reach `peer` (its collective failed naming it), and
     * waits to be told the new members (`coordinator/elastic_membership.ts`).
     */
    readonly type: "lost";
    readonly rank: number;
    /** The epoch this worker was in: a report from an epoch that has ended is stale. */
    readonly epoch: number;
    readonly peer: number;
    readonly message: string;
  }
  | {
    /** Elastic runs: this worker paused in `epoch`, as the coordinator's `pause` asked. */
    readonly type: "paused";
    readonly rank: number;
    readonly epoch: number;
    /** The step index it was in. */
    readonly step: number;
    /** The step indices whose start it kept, so it can go back to any of them. */
    readonly snapshots: readonly number[];
    /** `host:port` of its new mesh listener. */
    readonly address: string;
  };

/** What the coordinator tells a worker. */
export type CoordinatorMessage =
  | {
    readonly type: "start";
    readonly addresses: readonly string[];
    /** Checkpoint every this many steps (and after the last); `null` for none. */
    readonly checkpointEvery: number | null;
    /** Continue after this step from the state in the body; `null` for a fresh start. */
    readonly resume: { readonly step: number; readonly state: StateHeader } | null;
    /** Whether every mesh frame carries a MAC (`comm/frame_mac.ts`). */
    readonly macMesh: boolean;
    /**
     * Elastic runs: this worker joins the run in progress, in `epoch`, over `members`, at step
     * index `rewindTo`, with the state `donor` sends it over the new mesh.
     */
    readonly join?: JoinTerms;
    /**
     * Elastic runs resumed from a checkpoint taken after workers were lost: the members the
     * run starts with (the mesh covers them only). Absent: every worker.
     */
    readonly members?: readonly number[];
  }
  | { readonly type: "abort"; readonly reason: string }
  /** Elastic runs: a worker was lost; stop the collective under way and answer `paused`. */
  | { readonly type: "pause"; readonly epoch: number; readonly reason: string }
  | {
    /** Elastic runs: go on over `members`, from the start of step index `rewindTo`. */
    readonly type: "members";
    readonly epoch: number;
    readonly members: readonly number[];
    /** The members' new mesh addresses, by rank (`""` for others). */
    readonly addresses: readonly string[];
    readonly rewindTo: number;
    /** Workers that join now: `donor` sends each its state at `rewindTo` over the new mesh. */
    readonly joined: readonly number[];
    /** The member that sends the joiners their state (`null` when nobody joins). */
    readonly donor: number | null;
  };

/** How a worker joins an elastic run in progress (`start.join`). */
export interface JoinTerms {
  readonly epoch: number;
  readonly members: readonly number[];
  readonly rewindTo: number;
  readonly donor: number;
}

/** A decoded control message. */
export interface ControlMessage<T> {
  readonly header: T;
  readonly body: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Where a payload's body starts: after the length and the JSON, at a multiple of 4. */
function bodyOffset(headerBytes: number): number {
  return Math.ceil((4 + headerBytes) / 4) * 4;
}

/**
 * Encodes one control message as one frame of the mesh's wire format (`comm/wire.ts`), phase
 * `control`, whose payload is `u32 headerBytes | header (UTF-8 JSON) | zero padding to a
 * multiple of 4 | body`: the body is aligned, so float parameters in it are viewed in place.
 *
 * @param header The JSON header.
 * @param body Optional raw bytes.
 * @param source The sender's rank in the frame header (default 0).
 * @returns The bytes to write.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeControl } from "./control.ts";
 * // A 12-byte frame header, the 4-byte JSON length and 16 bytes of JSON.
 * assert.ok(encodeControl({ type: "start" }).length === 12 + 4 + 16);
 * ```
 */
export function encodeControl(
  header: unknown,
  body: Uint8Array = new Uint8Array(),
  source = 0,
): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  const offset = bodyOffset(json.length);
  const payload = new Uint8Array(offset + body.length);
  new DataView(payload.buffer).setUint32(0, json.length, true);
  payload.set(json, 4);
  payload.set(body, offset);
  return encodeFrame({ tag: 0, phase: "control", source }, payload);
}

/**
 * Splits a control frame's payload into its JSON header and its body.
 *
 * @param payload A frame's payload.
 * @returns The header (an object with a string `type`) and a view of the body (aligned when
 *   the payload is).
 * @throws {RangeError} When the payload is not a control message.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeControl, encodeControl } from "./control.ts";
 * const frame = encodeControl({ type: "done" }, new Uint8Array([1, 2]));
 * const { header, body } = decodeControl(frame.subarray(12));
 * assert.deepEqual([header, [...body]], [{ type: "done" }, [1, 2]]);
 * ```
 */
export function decodeControl<T>(payload: Uint8Array): ControlMessage<T> {
  const headerBytes = payload.byteLength < 4
    ? Number.POSITIVE_INFINITY
    : new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true);
  const offset = bodyOffset(headerBytes);
  if (offset > payload.byteLength) {
    throw new RangeError(
      `Cannot decode control message: its header of ${headerBytes} bytes overruns the ${payload.byteLength}-byte frame`,
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(payload.subarray(4, 4 + headerBytes)));
  } catch {
    throw new RangeError("Cannot decode control message: its header is not JSON");
  }
  if (
    typeof header !== "object" || header === null || Array.isArray(header) ||
    typeof (header as { type?: unknown }).type !== "string"
  ) {
    throw new RangeError("Cannot decode control message: its header has no type");
  }
  return { header: header as T, body: payload.subarray(offset) };
}

/** Options of {@linkcode readControl}. */
export interface ReadControlOptions {
  /** Bytes already read past the handshake: the start of the stream. */
  readonly leftover?: Uint8Array;
  /** Largest message accepted, in bytes (default 1 GiB). */
  readonly maxPayload?: number;
  /**
   * The key that checks the MAC after every frame (the session's `receive` key) and the
   * sender's name for the message when one fails ("worker 1", "the coordinator"); without it
   * frames carry no MAC (tests of the framing alone).
   */
  readonly authenticate?: { readonly key: FrameMac; readonly peer: string };
}

/** Bytes read per call into the reader's own buffer. */
const READ_BYTES = 64 * 1024;

/** A payload missing at least this many bytes is read into directly, without a copy. */
const DIRECT_READ_BYTES = 16 * 1024;

/**
 * Reads control messages from a connection until it closes.
 *
 * @param conn A readable connection, past its handshake.
 * @param options The bytes the handshake read ahead and the size limit.
 * @returns An async iterator of messages; it ends when the peer closes the connection.
 * @throws {RangeError} When the stream holds something other than control frames (a frame over
 *   the limit, of another kind, a header that is not JSON) or ends inside a frame.
 * @throws {FrameAuthError} When a frame fails its MAC (before it is decoded).
 */
export async function* readControl<T>(
  conn: Deno.Conn,
  options: ReadControlOptions = {},
): AsyncGenerator<ControlMessage<T>, void, undefined> {
  const auth = options.authenticate;
  const frames = new FrameDecoder(options.maxPayload ?? MAX_FRAME_PAYLOAD, undefined, {
    kinds: [FRAME_DATA],
    trailerBytes: auth === undefined ? 0 : FRAME_MAC_BYTES,
  });
  const decode = (frame: Frame): ControlMessage<T> => {
    if (auth !== undefined) {
      const sequence = auth.key.sequence;
      if (!auth.key.checkFrame(frame)) {
        throw new FrameAuthError("control frame", auth.peer, sequence);
      }
    }
    return decodeControl<T>(frame.payload);
  };
  for (const frame of frames.push(options.leftover ?? new Uint8Array())) {
    yield decode(frame);
  }
  const chunk = new Uint8Array(READ_BYTES);
  while (true) {
    const direct = frames.unfilledPayload();
    const into = direct !== null && direct.byteLength >= DIRECT_READ_BYTES ? direct : chunk;
    let read: number | null;
    try {
      read = await conn.read(into);
    } catch (error) {
      if (
        error instanceof Deno.errors.BadResource || error instanceof Deno.errors.ConnectionReset
      ) {
        return;
      }
      throw error;
    }
    if (read === null) {
      if (frames.partial) throw new RangeError("The control stream ended inside a message");
      return;
    }
    if (into === direct) {
      const frame = frames.filledPayload(read);
      if (frame !== null) yield decode(frame);
      continue;
    }
    for (const frame of frames.push(chunk.subarray(0, read))) {
      yield decode(frame);
    }
  }
}

/**
 * Serialises writes to one connection, so concurrent senders never interleave messages, and
 * signs each message as it is queued, so the sequence numbers follow the order of the queue.
 */
export class ControlWriter {
  #queue: Promise<void> = Promise.resolve();

  /**
   * @param conn The connection to write to.
   * @param source The sender's rank, written in every frame header (default 0).
   * @param key The session's `send` key, whose MAC follows every frame; `null` for none
   *   (tests of the framing alone).
   */
  constructor(
    readonly conn: Deno.Conn,
    readonly source = 0,
    readonly key: FrameMac | null = null,
  ) {}

  /**
   * Queues one message.
   * @param header The JSON header.
   * @param body Optional raw bytes.
   * @returns Resolves once written.
   */
  send(header: unknown, body?: Uint8Array): Promise<void> {
    const frame = encodeControl(header, body, this.source);
    const mac = this.key?.sign([frame]);
    const next = this.#queue.then(async () => {
      await writeAll(this.conn, frame);
      if (mac !== undefined) await writeAll(this.conn, mac);
    });
    this.#queue = next.catch(() => {});
    return next;
  }
}
