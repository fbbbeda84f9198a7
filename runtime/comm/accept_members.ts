/**
 * The accepting side of an authenticated listener, written once for the TCP mesh
 * (`_tcp_mesh.ts`) and the coordinator's rendezvous: accept connections, run the handshake of
 * `handshake.ts` on each (bounded, see `pending_handshakes.ts`), and sort what comes in.
 *
 * - A member that proved the run secret and was admitted goes to its owner.
 * - A stranger (anything that did not prove the secret within the handshake timeout) is closed
 *   with a warning naming its address and why, and accepting goes on: strangers never touch the
 *   run.
 * - A member that proved the secret but was refused (another plan, a rank out of range or taken)
 *   is a misconfiguration to fix, not an intruder to ignore: its owner is told.
 * - A failed accept (a connection reset before it was taken) is warned about and accepting goes
 *   on; a closed listener ends it.
 *
 * @module
 */

import {
  HandshakeError,
  type Offer,
  type ServerHandshake,
  serverHandshake,
  type ServerHandshakeOptions,
  type Verdict,
} from "./handshake.ts";
import { closeQuietly, noDelay, remoteOf } from "./net.ts";
import { PendingHandshakes, STAGE } from "./pending_handshakes.ts";
import type { Warn } from "./warnings.ts";
import { messageOf } from "../errors.ts";

/** What a {@linkcode MemberAcceptor} needs from its owner. */
export interface AcceptMembersOptions {
  /** The handshake's settings as the accepting side, all but the admission rule. */
  readonly handshake: Omit<ServerHandshakeOptions, "admit">;
  /**
   * Decides on an authenticated offer, as {@linkcode ServerHandshakeOptions.admit} does:
   * `null` admits it, a verdict refuses it. `admitting` holds the ranks admitted by a handshake
   * whose verdict is still being written, which are taken as much as a connected one.
   */
  readonly admit: (offer: Offer, admitting: ReadonlySet<number>) => Verdict | null;
  /** Whether another connection is wanted, asked before each accept (default: always). */
  readonly wanted?: () => boolean;
  /** Whether the owner is closing: connections are then closed and nothing is reported. */
  readonly closing: () => boolean;
  /** Takes an admitted member's connection, with its offer and the bytes read past the proof. */
  readonly member: (conn: Deno.Conn, handshake: ServerHandshake) => void;
  /**
   * Hears of a member that proved the secret and was refused (the verdict has been sent and the
   * connection closed).
   */
  readonly refused: (error: HandshakeError, remote: string) => void;
  /** Where warnings about failed accepts and refused strangers go. */
  readonly warn: Warn;
  /** The listener, as a failed accept's warning names it: `<listenerName>: <why>`. */
  readonly listenerName: string;
  /** The start of the warning about a refused stranger, which goes on `, which <why>`. */
  readonly strangerRefused: (remote: string) => string;
}

/**
 * Accepts and authenticates connections on a listener until no more are wanted, the owner
 * closes, or the listener is closed. The owner keeps the listener and closes it.
 *
 * @example A member of the run dials in and is admitted
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemberAcceptor } from "./accept_members.ts";
 * import { clientHandshake, RunKey } from "./handshake.ts";
 *
 * const key = RunKey.fromSecret(new TextEncoder().encode("a secret for the example"));
 * const identity = { key, planHash: new Uint8Array(32), world: 2, runId: new Uint8Array(16) };
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const admitted = Promise.withResolvers<number>();
 * const acceptor = new MemberAcceptor(listener, {
 *   handshake: { ...identity, channel: "mesh", rank: 0 },
 *   admit: () => null,
 *   closing: () => false,
 *   member: (conn, { offer }) => {
 *     conn.close();
 *     admitted.resolve(offer.rank);
 *   },
 *   refused: () => {},
 *   warn: () => {},
 *   listenerName: "the example's listener",
 *   strangerRefused: (remote) => `the example refused ${remote}`,
 * });
 * const { port } = listener.addr as Deno.NetAddr;
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port });
 * await clientHandshake(conn, { ...identity, channel: "mesh", rank: 1, target: 0 });
 * assert.equal(await admitted.promise, 1);
 * conn.close();
 * listener.close();
 * await acceptor.stop();
 * ```
 */
export class MemberAcceptor {
  /**
   * Resolves when no more connections are wanted or the owner closes; rejects with the accept's
   * error when the listener was closed while the owner was not closing.
   */
  readonly accepting: Promise<void>;
  readonly #listener: Deno.Listener;
  readonly #options: AcceptMembersOptions;
  /** Connections in their handshake, bounded. */
  readonly #pending = new PendingHandshakes();
  /** Ranks admitted by a handshake whose verdict is still being written. */
  readonly #admitting = new Set<number>();
  /** Handshakes under way. */
  readonly #handshakes = new Set<Promise<void>>();

  /**
   * Starts accepting.
   *
   * @param listener Where connections arrive (the owner closes it).
   * @param options The handshake, the admission rule and where each outcome goes.
   */
  constructor(listener: Deno.Listener, options: AcceptMembersOptions) {
    this.#listener = listener;
    this.#options = options;
    this.accepting = this.#accept();
    // Handled here: an owner that closes the listener itself need not wait for the end.
    this.accepting.catch(() => {});
  }

  /**
   * Closes the connections still in their handshake.
   *
   * @returns Resolves once accepting and every handshake under way ended (close the listener
   *   first, or accepting goes on).
   */
  async stop(): Promise<void> {
    this.#pending.closeAll();
    await Promise.allSettled([this.accepting, ...this.#handshakes]);
  }

  async #accept(): Promise<void> {
    const options = this.#options;
    while (!options.closing() && (options.wanted?.() ?? true)) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (options.closing()) return;
        if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
          throw error;
        }
        // One failed accept (a reset before it was taken) does not end the listener.
        options.warn(`${options.listenerName}: ${messageOf(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      if (options.closing()) return closeQuietly(conn);
      const handshake = this.#admit(conn);
      this.#handshakes.add(handshake);
      handshake.finally(() => this.#handshakes.delete(handshake));
    }
  }

  /** Runs the handshake of one connection and hands on the member or reports the refusal. */
  async #admit(conn: Deno.Conn): Promise<void> {
    const options = this.#options;
    noDelay(conn);
    const remote = remoteOf(conn);
    this.#pending.add(conn);
    let admitted: number | null = null;
    let handshake: ServerHandshake;
    try {
      handshake = await serverHandshake(conn, {
        ...options.handshake,
        // A member leaves the bounded set as soon as it proved the secret.
        progress: (stage, matchesPlan) =>
          stage === "proved"
            ? this.#pending.delete(conn)
            : this.#pending.advance(conn, matchesPlan ? STAGE.offeredThisPlan : STAGE.offered),
        admit: (offer) => {
          const verdict = options.admit(offer, this.#admitting);
          if (verdict === null) {
            admitted = offer.rank;
            this.#admitting.add(offer.rank);
          }
          return verdict;
        },
      });
    } catch (error) {
      closeQuietly(conn);
      if (options.closing()) return;
      if (error instanceof HandshakeError && error.member) {
        options.refused(error, remote);
      } else {
        options.warn(
          `${options.strangerRefused(remote)}, which ${
            this.#pending.evictedBecause(conn) ?? messageOf(error)
          }`,
        );
      }
      return;
    } finally {
      this.#pending.delete(conn);
      if (admitted !== null) this.#admitting.delete(admitted);
    }
    if (options.closing()) return closeQuietly(conn);
    // No await since the admission: the owner records the member before another verdict.
    options.member(conn, handshake);
  }
}
