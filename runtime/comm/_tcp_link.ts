/**
 * One connection between two ranks (TCP, or TLS over TCP), used both ways: writes are
 * serialised and loop until every byte is written; a read loop decodes frames and hands them
 * on, and reports every read, so the peer's liveness is known even while a large frame is
 * still arriving.
 *
 * @module
 */

import type { Frame, FrameDecoder } from "./wire.ts";
import { writeAll } from "./write_all.ts";

/** Bytes read from the socket per call into the link's own buffer. */
const READ_BUFFER_BYTES = 256 * 1024;

/** A payload missing at least this many bytes is read into directly. */
const DIRECT_READ_BYTES = 16 * 1024;

/**
 * Bytes of the read after a payload read into directly: the next frame's header (and the MAC
 * trailer before it) and little more, so that a large payload following it is read straight
 * into its place too instead of its first 256 KiB being copied out of the link's buffer (a
 * quarter of a ring all-reduce's bytes, with 1 MiB segments).
 */
const HEADER_READ_BYTES = 64;

/** How a link reports what it reads. */
export interface LinkHandlers {
  /** A frame arrived; throwing ends the link with that error (a peer breaking the protocol). */
  frame(frame: Frame): void;
  /** Bytes arrived (any bytes: a heartbeat, part of a frame). */
  heard?(): void;
  /** The stream ended or failed; `error` is null at a clean end of stream. */
  end(error: unknown): void;
}

/** A connection to one peer. */
export class TcpLink {
  /** The socket. */
  readonly conn: Deno.Conn;
  /** When the last write was queued (`performance.now()` time), for heartbeats. */
  lastWrite = performance.now();
  /** Writes queued and not finished: while any is, bytes are on their way (or stuck). */
  pendingWrites = 0;
  #tail: Promise<void> = Promise.resolve();
  #reading: Promise<void> = Promise.resolve();
  #closed = false;

  /** Wraps an open socket; call {@linkcode TcpLink.startReading} to start its read loop. */
  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /**
   * Queues `parts` (written back to back) behind earlier writes.
   *
   * @param parts The bytes (not copied: do not change them until the write resolves).
   * @param written Called with the bytes of every partial write.
   */
  write(parts: readonly Uint8Array[], written: (bytes: number) => void): Promise<void> {
    this.lastWrite = performance.now();
    this.pendingWrites++;
    const result = this.#tail.then(async () => {
      for (const part of parts) await writeAll(this.conn, part, written);
    }).finally(() => this.pendingWrites--);
    this.#tail = result.catch(() => {});
    return result;
  }

  /**
   * Starts the read loop.
   *
   * @param decoder The decoder, with the limits of the authenticated stream.
   * @param leftover Bytes the handshake read past its last message: the stream's start.
   * @param handlers Where frames, reads and the end go.
   */
  startReading(decoder: FrameDecoder, leftover: Uint8Array, handlers: LinkHandlers): void {
    this.#reading = this.#read(decoder, leftover, handlers);
  }

  async #read(decoder: FrameDecoder, leftover: Uint8Array, handlers: LinkHandlers) {
    let error: unknown = null;
    try {
      for (const frame of decoder.push(leftover)) handlers.frame(frame);
      const buffer = new Uint8Array(READ_BUFFER_BYTES);
      let afterDirect = false;
      while (true) {
        // The rest of a large payload is read straight into its buffer, without a copy.
        const direct = decoder.unfilledPayload();
        if (direct !== null && direct.byteLength >= DIRECT_READ_BYTES) {
          const n = await this.conn.read(direct);
          if (n === null) break;
          handlers.heard?.();
          afterDirect = true;
          const frame = decoder.filledPayload(n);
          if (frame) handlers.frame(frame);
          continue;
        }
        const n = await this.conn.read(
          afterDirect ? buffer.subarray(0, HEADER_READ_BYTES) : buffer,
        );
        afterDirect = false;
        if (n === null) break;
        handlers.heard?.();
        for (const frame of decoder.push(buffer.subarray(0, n))) handlers.frame(frame);
      }
      if (decoder.partial) error = new Error("the stream ended inside a frame");
    } catch (caught) {
      error = caught;
    }
    if (!this.#closed) {
      this.close();
      handlers.end(error);
    }
  }

  /** Closes the socket (once). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  /** Resolves once the read loop and every queued write have finished. */
  async settled(): Promise<void> {
    await Promise.allSettled([this.#reading, this.#tail]);
  }
}
