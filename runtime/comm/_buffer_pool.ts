/**
 * Reuse of payload buffers. Touching fresh memory is the dominant cost of moving large vectors
 * on some machines (every new page faults), so the transports hand out received payloads from
 * a pool, and collectives that have finished reading a payload give it back.
 *
 * Giving back is an optional capability of a transport (`recycle`), not part of the
 * {@linkcode Transport} contract: a transport without it simply allocates.
 *
 * @module
 */

import type { Transport } from "./types.ts";

/** Payloads smaller than this are not pooled. */
const MIN_POOLED_BYTES = 4096;

/** Free buffers by exact length, up to a total number of bytes. */
export class BufferPool {
  readonly #free = new Map<number, Uint8Array[]>();
  readonly #maxBytes: number;
  #bytes = 0;

  /**
   * Creates an empty pool.
   *
   * @param maxBytes Most bytes kept in the pool.
   */
  constructor(maxBytes: number = 64 * 1024 * 1024) {
    this.#maxBytes = maxBytes;
  }

  /** A zero-offset buffer of exactly `bytes` bytes, reused when one is free (contents stale). */
  take(bytes: number): Uint8Array {
    const reused = this.#free.get(bytes)?.pop();
    if (reused) {
      this.#bytes -= bytes;
      return reused;
    }
    return new Uint8Array(bytes);
  }

  /** Gives `buffer` back; the caller must not use it any more. */
  give(buffer: Uint8Array): void {
    const bytes = buffer.byteLength;
    if (
      bytes < MIN_POOLED_BYTES || buffer.byteOffset !== 0 ||
      buffer.buffer.byteLength !== bytes || this.#bytes + bytes > this.#maxBytes
    ) {
      return;
    }
    const list = this.#free.get(bytes);
    if (list) list.push(buffer);
    else this.#free.set(bytes, [buffer]);
    this.#bytes += bytes;
  }
}

/** A transport that takes back payloads returned by its `recv`. */
interface Recycling {
  recycle(payload: Uint8Array): void;
}

/**
 * Gives a received payload back to its transport for reuse, if the transport can take it.
 * The caller must not touch the payload (or any view of it) afterwards.
 */
export function recyclePayload(transport: Transport, payload: Uint8Array): void {
  (transport as Transport & Partial<Recycling>).recycle?.(payload);
}
