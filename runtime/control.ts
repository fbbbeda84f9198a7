/**
 * The control channel between the coordinator and its workers: one TCP connection per worker to
 * the coordinator's rendezvous address, used by thread workers and process workers alike.
 *
 * A message is a JSON header plus an optional binary body (raw float32 parameters are sent as
 * bytes, never as JSON numbers): `u32 headerBytes | u32 bodyBytes | header (UTF-8 JSON) | body`,
 * little-endian.
 *
 * @module
 */

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
  | { readonly type: "metrics"; readonly lines: readonly Record<string, unknown>[] }
  | {
    readonly type: "done";
    readonly rank: number;
    /** The worker's final reported model travels in the body. */
    readonly parameters: number;
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
  | { readonly type: "start"; readonly addresses: readonly string[] }
  | { readonly type: "abort"; readonly reason: string };

/** A decoded control message. */
export interface ControlMessage<T> {
  readonly header: T;
  readonly body: Uint8Array;
}

const PREFIX_BYTES = 8;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes one control message.
 *
 * @param header The JSON header.
 * @param body Optional raw bytes.
 * @returns The bytes to write.
 * @example
 * ```ts
 * import { encodeControl } from "./control.ts";
 * console.assert(encodeControl({ type: "start" }).length === 8 + 16);
 * ```
 */
export function encodeControl(header: unknown, body: Uint8Array = new Uint8Array()): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  const bytes = new Uint8Array(PREFIX_BYTES + json.length + body.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, body.length, true);
  bytes.set(json, PREFIX_BYTES);
  bytes.set(body, PREFIX_BYTES + json.length);
  return bytes;
}

/**
 * Reads control messages from a connection until it closes.
 *
 * @param conn A readable connection.
 * @returns An async iterator of messages; it ends when the peer closes the connection.
 */
export async function* readControl<T>(
  conn: Deno.Conn,
): AsyncGenerator<ControlMessage<T>, void, undefined> {
  let buffer = new Uint8Array(0);
  const chunk = new Uint8Array(64 * 1024);
  while (true) {
    while (buffer.length >= PREFIX_BYTES) {
      const view = new DataView(buffer.buffer, buffer.byteOffset, PREFIX_BYTES);
      const headerBytes = view.getUint32(0, true);
      const bodyBytes = view.getUint32(4, true);
      const total = PREFIX_BYTES + headerBytes + bodyBytes;
      if (buffer.length < total) break;
      const header = JSON.parse(
        decoder.decode(buffer.subarray(PREFIX_BYTES, PREFIX_BYTES + headerBytes)),
      ) as T;
      const body = buffer.slice(PREFIX_BYTES + headerBytes, total);
      buffer = buffer.subarray(total);
      yield { header, body };
    }
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
    const next = new Uint8Array(buffer.length + read);
    next.set(buffer);
    next.set(chunk.subarray(0, read), buffer.length);
    buffer = next;
  }
}

/**
 * Writes all bytes to a connection (a single `write` may write fewer).
 *
 * @param conn The connection.
 * @param bytes What to write.
 */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
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
