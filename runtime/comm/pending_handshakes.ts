/**
 * The connections a listener holds while their handshakes run, bounded: beyond the bound one is
 * closed, so a flood of strangers holds a bounded amount of memory. Which one is closed is what
 * keeps members in: the victim is taken from the remote address that holds the most pending
 * connections (a flood from one host evicts its own connections before anyone else's), and among
 * those, the least advanced, oldest first. A connection that sent nothing yet goes before one
 * that sent a well-formed offer, which goes before one whose offer names this run's plan; one
 * whose client proved the secret is a member and leaves the set (`handshake.ts`: the client
 * proves first, so the server knows a member after three messages, before it has sent anything
 * derived from the secret). A member that is closed all the same (a flood of well-formed offers
 * from its own host) dials again with backoff (`join.ts`, `_tcp_mesh.ts`): strangers slow a run,
 * they do not end it.
 *
 * @module
 */

import { closeQuietly, remoteOf } from "./net.ts";

/** Connections in their handshake at once, by default. */
export const MAX_PENDING_HANDSHAKES = 64;

/** How far a pending handshake got: higher is further, closed last. */
export const STAGE = { connected: 0, offered: 1, offeredThisPlan: 2 } as const;

/** A pending handshake's stage. */
export type Stage = (typeof STAGE)[keyof typeof STAGE];

interface Pending {
  readonly host: string;
  stage: Stage;
}

/** Connections in their handshake, in the order they came. */
export class PendingHandshakes {
  readonly #conns = new Map<Deno.Conn, Pending>();
  readonly #perHost = new Map<string, number>();
  readonly #evicted = new WeakSet<Deno.Conn>();
  readonly #max: number;

  /** @param max How many connections may be in their handshake at once. */
  constructor(max: number = MAX_PENDING_HANDSHAKES) {
    this.#max = max;
  }

  /**
   * Holds a connection whose handshake starts; closes one when over the bound (see the module).
   *
   * @param conn The new connection.
   */
  add(conn: Deno.Conn): void {
    const host = hostOf(conn);
    this.#conns.set(conn, { host, stage: STAGE.connected });
    this.#perHost.set(host, (this.#perHost.get(host) ?? 0) + 1);
    if (this.#conns.size <= this.#max) return;
    const victim = this.#victim();
    this.delete(victim);
    this.#evicted.add(victim);
    closeQuietly(victim);
  }

  /**
   * Records how far a connection's handshake got.
   *
   * @param conn The connection.
   * @param stage Its stage now.
   */
  advance(conn: Deno.Conn, stage: Stage): void {
    const pending = this.#conns.get(conn);
    if (pending !== undefined) pending.stage = stage;
  }

  /**
   * Lets go of a connection whose handshake ended, or whose client proved the secret.
   *
   * @param conn The connection.
   */
  delete(conn: Deno.Conn): void {
    const pending = this.#conns.get(conn);
    if (pending === undefined) return;
    this.#conns.delete(conn);
    const left = this.#perHost.get(pending.host)! - 1;
    if (left === 0) this.#perHost.delete(pending.host);
    else this.#perHost.set(pending.host, left);
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
    for (const conn of this.#conns.keys()) closeQuietly(conn);
    this.#conns.clear();
    this.#perHost.clear();
  }

  /** The oldest of the least advanced connections of the host that holds the most. */
  #victim(): Deno.Conn {
    let busiest = "";
    let most = 0;
    for (const [host, count] of this.#perHost) {
      if (count > most) [busiest, most] = [host, count];
    }
    let victim: Deno.Conn | null = null;
    let lowest = Infinity;
    for (const [conn, { host, stage }] of this.#conns) {
      if (host === busiest && stage < lowest) {
        [victim, lowest] = [conn, stage];
        if (stage === STAGE.connected) break;
      }
    }
    return victim!;
  }
}

/** The remote host of a connection (its address without the port). */
function hostOf(conn: Deno.Conn): string {
  try {
    return (conn.remoteAddr as Deno.NetAddr).hostname ?? remoteOf(conn);
  } catch {
    return remoteOf(conn);
  }
}
