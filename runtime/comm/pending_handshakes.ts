/**
 * The connections a listener holds while their handshakes run, bounded: beyond the bound the
 * oldest is closed, so a flood of strangers holds a bounded amount of memory and cannot keep
 * a real peer out for longer than it takes to open that many connections. (A real peer's
 * handshake takes milliseconds; a stranger's lasts until its timeout.)
 *
 * @module
 */

import { closeQuietly } from "./net.ts";

/** Connections in their handshake at once, by default. */
export const MAX_PENDING_HANDSHAKES = 64;

/** Connections in their handshake, oldest first. */
export class PendingHandshakes {
  readonly #conns = new Set<Deno.Conn>();
  readonly #evicted = new WeakSet<Deno.Conn>();
  readonly #max: number;

  /** @param max How many connections may be in their handshake at once. */
  constructor(max: number = MAX_PENDING_HANDSHAKES) {
    this.#max = max;
  }

  /**
   * Holds a connection whose handshake starts; closes the oldest when over the bound.
   *
   * @param conn The new connection.
   */
  add(conn: Deno.Conn): void {
    this.#conns.add(conn);
    if (this.#conns.size <= this.#max) return;
    const oldest = this.#conns.values().next().value!;
    this.#conns.delete(oldest);
    this.#evicted.add(oldest);
    closeQuietly(oldest);
  }

  /**
   * Lets go of a connection whose handshake ended.
   *
   * @param conn The connection.
   */
  delete(conn: Deno.Conn): void {
    this.#conns.delete(conn);
  }

  /**
   * Why a connection's handshake failed, if it was closed to make room.
   *
   * @param conn The connection.
   * @returns The reason, or `null` if it was not evicted.
   */
  evictedBecause(conn: Deno.Conn): string | null {
    return this.#evicted.has(conn)
      ? `was closed to make room: more than ${this.#max} connections were in their handshake at once`
      : null;
  }

  /** Closes every connection still in its handshake. */
  closeAll(): void {
    for (const conn of this.#conns) closeQuietly(conn);
    this.#conns.clear();
  }
}
