/**
 * The control channel between the coordinator and its workers: one TCP connection per worker to
 * the coordinator's rendezvous address, used by thread workers and process workers alike.
 *
 * A message is a JSON header plus an optional binary body (raw float32 parameters are sent as
 * bytes, never as JSON numbers), carried in one frame of the mesh's own wire format, so there is
 * one framing codec in the runtime.
 *
 * @module
 */

import { encodeFrame, FrameDecoder } from "./comm/wire.ts";
import { writeAll } from "./comm/write_all.ts";
import type { MetricsLine } from "./metrics.ts";
import type { StateHeader } from "./worker_state.ts";

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
  }
  | { readonly type: "metrics"; readonly lines: readonly MetricsLine[] }
  | {
    readonly type: "done";
    readonly rank: number;
    /** The worker's final reported model travels in the body. */
    readonly parameters: number;
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
    readonly type: "error";
    readonly rank: number;
    readonly message: string;
    /** For a peer failure (disconnect, timeout): the rank this worker blames. */
    readonly peer?: number;
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
  }
  | { readonly type: "abort"; readonly reason: string };

/** A decoded control message. */
export interface ControlMessage<T> {
  readonly header: T;
  readonly body: Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes one control message as one frame of the mesh's wire format (`comm/wire.ts`), phase
 * `control`, whose payload is `u32 headerBytes | header (UTF-8 JSON) | body`.
 *
 * @param header The JSON header.
 * @param body Optional raw bytes.
 * @returns The bytes to write.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeControl } from "./control.ts";
 * // A 12-byte frame header, the 4-byte JSON length and 16 bytes of JSON.
 * assert.ok(encodeControl({ type: "start" }).length === 12 + 4 + 16);
 * ```
 */
export function encodeControl(header: unknown, body: Uint8Array = new Uint8Array()): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  const payload = new Uint8Array(4 + json.length + body.length);
  new DataView(payload.buffer).setUint32(0, json.length, true);
  payload.set(json, 4);
  payload.set(body, 4 + json.length);
  return encodeFrame({ tag: 0, phase: "control", source: 0 }, payload);
}

/** Splits a control frame's payload into its JSON header and its body. */
function decodeControl<T>(payload: Uint8Array): ControlMessage<T> {
  const headerBytes = payload.byteLength < 4
    ? Number.POSITIVE_INFINITY
    : new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true);
  if (4 + headerBytes > payload.byteLength) {
    throw new RangeError(
      `Cannot decode control message: its header of ${headerBytes} bytes overruns the ${payload.byteLength}-byte frame`,
    );
  }
  const header = JSON.parse(decoder.decode(payload.subarray(4, 4 + headerBytes))) as T;
  // The body gets its own buffer, so float parameters in it can be viewed in place.
  return { header, body: payload.slice(4 + headerBytes) };
}

/**
 * Reads control messages from a connection until it closes.
 *
 * @param conn A readable connection.
 * @returns An async iterator of messages; it ends when the peer closes the connection.
 * @throws {RangeError} When the stream holds something other than control frames.
 */
export async function* readControl<T>(
  conn: Deno.Conn,
): AsyncGenerator<ControlMessage<T>, void, undefined> {
  const frames = new FrameDecoder();
  const chunk = new Uint8Array(64 * 1024);
  while (true) {
    let read: number | null;
    try {
      read = await conn.read(chunk);
    } catch (error) {
      if (
        error instanceof Deno.errors.BadResource || error instanceof Deno.errors.ConnectionReset
      ) {
        return;
      }
      throw error;
    }
    if (read === null) return;
    for (const frame of frames.push(chunk.subarray(0, read))) {
      yield decodeControl<T>(frame.payload);
    }
  }
}

/**
 * Serialises writes to one connection, so concurrent senders never interleave messages.
 */
export class ControlWriter {
  #queue: Promise<void> = Promise.resolve();

  /** @param conn The connection to write to. */
  constructor(readonly conn: Deno.Conn) {}

  /**
   * Queues one message.
   * @param header The JSON header.
   * @param body Optional raw bytes.
   * @returns Resolves once written.
   */
  send(header: unknown, body?: Uint8Array): Promise<void> {
    const bytes = encodeControl(header, body);
    const next = this.#queue.then(() => writeAll(this.conn, bytes));
    this.#queue = next.catch(() => {});
    return next;
  }
}
