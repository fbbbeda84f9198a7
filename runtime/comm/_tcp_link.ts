/**
 * One TCP connection between two ranks, used both ways: writes are serialised and loop until
 * every byte is written; a read loop decodes frames and hands them on.
 *
 * @module
 */

import type { Frame, FrameDecoder } from "./wire.ts";
import { writeAll } from "./write_all.ts";

/** Bytes read from the socket per call into the link's own buffer. */
const READ_BUFFER_BYTES = 256 * 1024;

/** A payload missing at least this many bytes is read into directly. */
const DIRECT_READ_BYTES = 16 * 1024;

/** Reads until the decoder completes at least one frame; `null` at end of stream. */
export async function readFrames(
  conn: Deno.Conn,
  decoder: FrameDecoder,
  buffer: Uint8Array = new Uint8Array(64 * 1024),
): Promise<Frame[] | null> {
  while (true) {
    const n = await conn.read(buffer);
    if (n === null) return null;
    const frames = decoder.push(buffer.subarray(0, n));
    if (frames.length > 0) return frames;
  }
}

/** How a link reports what it reads. */
export interface LinkHandlers {
  /** A frame arrived. */
  frame(frame: Frame): void;
  /** The stream ended or failed; `error` is null at a clean end of stream. */
  end(error: unknown): void;
}

/** A connection to one peer. */
export class TcpLink {
  /** The socket. */
  readonly conn: Deno.TcpConn;
  #tail: Promise<void> = Promise.resolve();
  #reading: Promise<void> = Promise.resolve();
  #closed = false;

  /** Wraps an open socket; call {@linkcode TcpLink.startReading} to start its read loop. */
  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /**
   * Queues `parts` (written back to back) behind earlier writes.
   *
   * @param parts The bytes (not copied: do not change them until the write resolves).
   * @param written Called with the bytes of every partial write.
   */
  write(parts: readonly Uint8Array[], written: (bytes: number) => void): Promise<void> {
    const result = this.#tail.then(async () => {
      for (const part of parts) await writeAll(this.conn, part, written);
    });
    this.#tail = result.catch(() => {});
    return result;
  }

  /** Starts the read loop; `pending` are frames already decoded during the handshake. */
  startReading(decoder: FrameDecoder, pending: readonly Frame[], handlers: LinkHandlers): void {
    this.#reading = this.#read(decoder, pending, handlers);
  }

  async #read(decoder: FrameDecoder, pending: readonly Frame[], handlers: LinkHandlers) {
    let error: unknown = null;
    try {
      for (const frame of pending) handlers.frame(frame);
      const buffer = new Uint8Array(READ_BUFFER_BYTES);
      while (true) {
        // The rest of a large payload is read straight into its buffer, without a copy.
        const direct = decoder.unfilledPayload();
        if (direct !== null && direct.byteLength >= DIRECT_READ_BYTES) {
          const n = await this.conn.read(direct);
          if (n === null) break;
          const frame = decoder.filledPayload(n);
          if (frame) handlers.frame(frame);
          continue;
        }
        const n = await this.conn.read(buffer);
        if (n === null) break;
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
