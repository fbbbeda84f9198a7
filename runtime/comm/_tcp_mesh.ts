/**
 * The TCP transport of one rank: forming the mesh (dialling lower ranks, accepting higher
 * ones, the authenticated handshake of `handshake.ts` on every connection), sending over
 * per-peer links, heartbeats to idle peers, and shutting everything down.
 *
 * A connection that fails its handshake before proving the run secret is a stranger: it is
 * closed and logged (rate-limited) and the mesh goes on forming. One that proved the secret but
 * was refused (another plan, a rank already connected) is a member with a wrong configuration,
 * and forming the mesh fails with the reason. Once authenticated, a peer's frames are held to
 * the plan's size limit, their kind (data or heartbeat) and their source rank; anything else
 * fails the peer with a message naming it.
 *
 * A mesh may join only some of the run's ranks ({@linkcode MeshSettings.members}): after a
 * worker is lost, the survivors form a fresh mesh among themselves, keeping their ranks and the
 * run's world size. Only members are dialled, accepted, awaited and sent heartbeats; a
 * non-member that proves the secret and dials in (a worker the coordinator dropped) is refused
 * and warned about, and the mesh goes on forming without it.
 *
 * With {@linkcode MeshSecurity.macFrames} every frame after the handshake, heartbeats included,
 * is followed by its MAC under the connection's session key of its direction
 * (`frame_mac.ts`), signed when the frame is queued and checked when its last byte arrives: a
 * frame altered, forged, replayed, reordered or dropped in the path fails the peer. A payload
 * read straight into its receiver's buffer (`_receive_into.ts`) is there before its MAC is
 * checked; a failed MAC fails the collective, so that buffer is never used as a result.
 *
 * @module
 */

import { BufferPool } from "./_buffer_pool.ts";
import { PostedPlaces } from "./_receive_into.ts";
import type { Mailbox } from "./_mailbox.ts";
import { TcpLink } from "./_tcp_link.ts";
import { TrafficCounter } from "./_traffic.ts";
import { MemberAcceptor } from "./accept_members.ts";
import {
  clientHandshake,
  FRAME_MAC_BYTES,
  FrameAuthError,
  HandshakeError,
  type RunKey,
  type SessionKeys,
  VERDICT,
} from "./handshake.ts";
import { closeQuietly, ConnectTimeoutError, dial, TlsHandshakeError, type TlsPem } from "./net.ts";
import { PeerError, type Phase, type TrafficStats, type Transport } from "./types.ts";
import type { Warn } from "./warnings.ts";
import {
  encodeFrame,
  encodeFrameHeader,
  FRAME_DATA,
  FRAME_HEADER_BYTES,
  FRAME_HEARTBEAT,
  FrameDecoder,
} from "./wire.ts";
import { messageOf, WorkerNamedError } from "../errors.ts";

/**
 * Shapes sends to follow a declared network (`runtime/network/links.ts`): when a message handed
 * over now has left the sender and when it reaches the receiver, in `performance.now()` time.
 */
export interface SendShaper {
  /** Schedules `bytes` bytes to `to`, handed over at `readyAt`: when they leave and arrive. */
  transfer(to: number, bytes: number, readyAt: number): { leftAt: number; arriveAt: number };
}

/**
 * How far ahead of its link a shaped sender may run, in ms: the link's queue keeps the exact
 * schedule, and a sender that waited for every message to leave would fall behind it by a timer's
 * lateness each time (a network card's buffer does the same).
 */
const SEND_AHEAD_MS = 10;

/** Payloads up to this size are copied behind their header and written at once. */
const COPY_BELOW_BYTES = 64 * 1024;

/** Who the members of a mesh are and how their connections are checked. */
export interface MeshSecurity {
  /** The run's key (`handshake.ts`). */
  readonly key: RunKey;
  /** The run id, 16 bytes. */
  readonly runId: Uint8Array;
  /** The plan's SHA-256, 32 bytes. */
  readonly planHash: Uint8Array;
  /** How long a connection may take to complete its handshake, in ms. */
  readonly handshakeTimeoutMs: number;
  /** TLS material, or `null` for plain TCP. */
  readonly tls: TlsPem | null;
  /** Where warnings about refused connections go. */
  readonly warn: Warn;
  /**
   * Whether every frame after the handshake carries a MAC ({@linkcode FRAME_MAC_BYTES} more
   * bytes per frame, and an HMAC over every byte sent and received).
   */
  readonly macFrames?: boolean;
}

/** Everything a mesh transport is built from. */
export interface MeshSettings {
  readonly rank: number;
  readonly size: number;
  /** This rank's listener; the transport owns it. */
  readonly listener: Deno.Listener;
  readonly mailbox: Mailbox;
  /** Largest payload of an authenticated peer's frame. */
  readonly maxPayload: number;
  readonly shaper: SendShaper | null;
  readonly security: MeshSecurity;
  /** Send a heartbeat to a peer nothing was written to for this long, ms; `null`: never. */
  readonly heartbeatMs: number | null;
  /**
   * The ranks this mesh joins, ascending, this rank among them (checked by the caller): every
   * rank of the run, or the survivors of a lost worker.
   */
  readonly members: readonly number[];
}

/** The first pause before dialling a peer again after an interrupted handshake; it doubles. */
const FIRST_REDIAL_MS = 50;
const MAX_REDIAL_MS = 1_000;

export class TcpMeshTransport implements Transport {
  readonly rank: number;
  readonly size: number;
  /** The ranks this mesh joins (every rank unless narrowed), ascending. */
  readonly members: readonly number[];
  /** Per rank: whether it is a member. */
  readonly #isMember: boolean[];
  /**
   * The reasons given to non-members that proved the secret: their refusal is reported and
   * forming goes on, where another refused member fails the mesh.
   */
  readonly #outsiderReasons = new Set<string>();
  readonly #listener: Deno.Listener;
  readonly #mailbox: Mailbox;
  readonly #maxPayload: number;
  readonly #security: MeshSecurity;
  readonly #heartbeatMs: number | null;
  readonly #counter = new TrafficCounter();
  readonly #pool = new BufferPool();
  /** Where posted messages go (the ring's all-gather lands in the result this way). */
  readonly #places = new PostedPlaces();
  readonly #links: (TcpLink | undefined)[];
  /** Per peer: the keys that sign and check its frames, when frames carry MACs. */
  readonly #sessions: (SessionKeys | undefined)[];
  /** Connections this rank dialled, in their handshake. */
  readonly #dialling = new Set<Deno.Conn>();
  /** Accepts the higher ranks, once `acceptHigher` started. */
  #acceptor: MemberAcceptor | null = null;
  #closing: Promise<void> | null = null;
  #abortReason: Error | null = null;
  #heartbeats: ReturnType<typeof setInterval> | undefined;
  readonly #shaper: SendShaper | null;
  /** Per peer: shaped frames waiting for their arrival time, in sending order. */
  readonly #arrivals: { frame: Uint8Array; phase: Phase; arriveAt: number }[][] = [];
  /** Per peer: the loop that writes due frames, while any wait. */
  readonly #pumps: (Promise<void> | null)[] = [];
  /** Shaped sends and deliveries waiting for their time, and how to release them early. */
  readonly #timers = new Map<ReturnType<typeof setTimeout>, () => void>();

  /** An unconnected transport; `acceptHigher` and `dialLower` form the mesh. */
  constructor(settings: MeshSettings) {
    this.rank = settings.rank;
    this.size = settings.size;
    this.members = settings.members;
    this.#isMember = Array.from({ length: settings.size }, () => false);
    for (const member of settings.members) this.#isMember[member] = true;
    this.#listener = settings.listener;
    this.#mailbox = settings.mailbox;
    this.#maxPayload = settings.maxPayload;
    this.#shaper = settings.shaper;
    this.#security = settings.security;
    this.#heartbeatMs = settings.heartbeatMs;
    this.#links = new Array(settings.size);
    this.#sessions = new Array(settings.size);
  }

  /**
   * `parts` followed by their MAC when frames carry MACs. Call it where the frame is queued to
   * its link, since sequence numbers must follow the order frames are written in.
   */
  #sealed(to: number, parts: Uint8Array[]): Uint8Array[] {
    const session = this.#sessions[to];
    return session === undefined ? parts : [...parts, session.send.sign(parts)];
  }

  /** The bytes of the MAC after each frame to `to` (0 without MACs). */
  #macBytes(to: number): number {
    return this.#sessions[to] === undefined ? 0 : FRAME_MAC_BYTES;
  }

  send(to: number, tag: number, payload: Uint8Array, phase: Phase): Promise<void> {
    try {
      if (this.#closing) throw this.#closedError();
      if (!Number.isInteger(to) || to < 0 || to >= this.size) {
        throw new RangeError(`Cannot send to rank ${to}: ranks are 0..${this.size - 1}`);
      }
      if (!this.#isMember[to]) throw this.#notMember("send to", to);
      const header = { tag, phase, source: this.rank };
      const head = encodeFrameHeader(header, payload.byteLength, this.#maxPayload);
      if (to === this.rank) {
        const copy = this.#pool.take(payload.byteLength);
        copy.set(payload);
        this.#mailbox.deliver(to, tag, copy);
        return Promise.resolve();
      }
      const failure = this.#mailbox.failure(to);
      if (failure) throw failure;
      if (this.#shaper !== null) return this.#shapedSend(to, header, payload, phase);
      // Small frames go out in one write; large payloads are written from the caller's buffer.
      const parts = payload.byteLength <= COPY_BELOW_BYTES
        ? [encodeFrame(header, payload, this.#maxPayload)]
        : [head, payload];
      const link = this.#links[to]!;
      const sealed = this.#sealed(to, parts);
      return link.write(sealed, (bytes) => this.#counter.sent(phase, bytes)).catch((error) => {
        if (this.#closing) throw this.#closedError();
        throw this.#mailbox.failure(to) ?? disconnected(to, error);
      });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A send on the declared network: the frame is copied now, the sender waits until its last
   * byte is about to leave the link (within {@linkcode SEND_AHEAD_MS}), and the frame reaches the
   * socket (where its bytes are counted) when it arrives, in order behind earlier messages to
   * the same peer.
   */
  async #shapedSend(
    to: number,
    header: { tag: number; phase: Phase; source: number },
    payload: Uint8Array,
    phase: Phase,
  ): Promise<void> {
    const frame = encodeFrame(header, payload, this.#maxPayload);
    const { leftAt, arriveAt } = this.#shaper!.transfer(
      to,
      frame.byteLength + this.#macBytes(to),
      performance.now(),
    );
    (this.#arrivals[to] ??= []).push({ frame, phase, arriveAt });
    this.#pumps[to] ??= this.#pump(to);
    await this.#sleepUntil(leftAt - SEND_AHEAD_MS);
  }

  /**
   * Writes the frames to one peer as they become due, every due frame in one queued write. A
   * failed write shows as the peer's disconnection, to later sends.
   */
  async #pump(to: number): Promise<void> {
    const queue = this.#arrivals[to]!;
    const link = this.#links[to]!;
    try {
      while (queue.length > 0) {
        await this.#sleepUntil(queue[0]!.arriveAt);
        const now = performance.now();
        let due = 1;
        while (due < queue.length && queue[due]!.arriveAt <= now) due++;
        const batch = queue.splice(0, due);
        // Signed as they are written, not when sent: a heartbeat written meanwhile takes the
        // next sequence number, and the peer checks frames in the order they are written.
        await link.write(batch.flatMap((each) => this.#sealed(to, [each.frame])), () => {});
        for (const each of batch) {
          this.#counter.sent(each.phase, each.frame.byteLength + this.#macBytes(to));
        }
      }
    } catch {
      queue.length = 0;
    } finally {
      this.#pumps[to] = null;
    }
  }

  /** Resolves at `performance.now()` time `t`, or when the transport closes. */
  #sleepUntil(t: number): Promise<void> {
    const wait = t - performance.now();
    if (wait <= 0 || this.#closing) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        resolve();
      }, wait);
      this.#timers.set(timer, resolve);
    });
  }

  /**
   * Resolves once every shaped message sent so far has reached its socket (at once without a
   * declared network), so byte counters taken afterwards include them.
   */
  async drain(): Promise<void> {
    await Promise.all(this.#pumps);
  }

  recv(from: number, tag: number): Promise<Uint8Array> {
    // A non-member never connects: waiting for it would only end in a timeout.
    if (this.#isMember[from] === false) {
      return Promise.reject(this.#notMember("receive from", from));
    }
    return this.#mailbox.recv(from, tag);
  }

  /** The error of a send to or receive from a rank outside the members. */
  #notMember(what: string, peer: number): RangeError {
    return new RangeError(
      `Cannot ${what} rank ${peer}: it is not a member of worker ${this.rank}'s mesh (members are ${
        this.members.join(", ")
      })`,
    );
  }

  /** Reads the next messages from (from, tag) into `targets` (see `_receive_into.ts`). */
  receiveInto(from: number, tag: number, targets: readonly Uint8Array[]): () => void {
    return this.#places.post(from, tag, targets);
  }

  /** Takes back a payload returned by `recv` (see `_buffer_pool.ts`). */
  recycle(payload: Uint8Array): void {
    this.#pool.give(payload);
  }

  stats(): TrafficStats {
    return this.#counter.snapshot();
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /**
   * Closes every connection because a collective failed with `reason`: its tags are out of step
   * now, so nothing more can be exchanged, and closing at once tells every peer (which fails in
   * turn) instead of leaving them to wait for this rank. Pending and later calls fail with
   * `reason`.
   *
   * @param reason The failure, usually a {@linkcode PeerError} naming the peer that failed.
   */
  abort(reason: Error): Promise<void> {
    this.#abortReason ??= reason;
    return this.close();
  }

  #closedError(): Error {
    return this.#abortReason ?? new WorkerNamedError(`Worker ${this.rank}'s transport is closed`);
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#heartbeats);
    this.#mailbox.close(this.#closedError());
    // Shaped messages already sent are still on their way (the last barrier's, say): they are
    // delivered before the links close, or a peer would miss them.
    await Promise.all(this.#pumps);
    // Waiting sends end now (their deliveries then fail on the closed links, quietly).
    for (const [timer, release] of this.#timers) {
      clearTimeout(timer);
      release();
    }
    this.#timers.clear();
    try {
      this.#listener.close();
    } catch { /* closed once the mesh was complete */ }
    for (const conn of this.#dialling) closeQuietly(conn);
    const accepted = this.#acceptor?.stop();
    for (const link of this.#links) link?.close();
    await accepted;
    await Promise.all(this.#links.map((link) => link?.settled()));
  }

  /** Members without a connection yet. */
  missingPeers(): number[] {
    return this.members.filter((peer) => peer !== this.rank && !this.#links[peer]);
  }

  /**
   * Starts sending a heartbeat to every peer that nothing was written to for the heartbeat
   * period (checked twice a period), so the peer's timeout measures this process's silence,
   * not its workload. Heartbeats are not counted in any phase: they are not training traffic,
   * and counting them would make the byte counts depend on timing. Only members have links, so
   * only members get heartbeats.
   */
  startHeartbeats(): void {
    const period = this.#heartbeatMs;
    if (period === null || this.#heartbeats !== undefined || this.#closing) return;
    const frame = encodeFrame(
      { tag: 0, phase: "control", source: this.rank, kind: FRAME_HEARTBEAT },
      new Uint8Array(0),
    );
    this.#heartbeats = setInterval(() => {
      const due = performance.now() - 0.9 * period;
      this.#links.forEach((link, peer) => {
        // A link with a write in flight needs none: its bytes are on their way, or stuck
        // behind a peer that stopped reading, where heartbeats would only pile up.
        if (
          link === undefined || link.lastWrite > due || link.pendingWrites > 0 ||
          this.#mailbox.failure(peer)
        ) return;
        link.write(this.#sealed(peer, [frame]), () => {}).catch(() => {
          /* the read side reports the failure */
        });
      });
    }, period / 2);
  }

  /**
   * Dials every lower-ranked member and runs the handshake as the connecting side (the
   * addresses of non-members are not read). A handshake that was interrupted (the peer's
   * listener closed it to make room in a flood of strangers, or it broke or timed out before
   * anything was decided) is dialled again with backoff, until the mesh forms or is closed
   * (`connectTcpMesh`'s connect timeout closes it): strangers slow the mesh, they do not fail it.
   */
  async dialLower(addresses: readonly string[]): Promise<void> {
    const lower = this.members.filter((peer) => peer < this.rank);
    await Promise.all(
      lower.map(async (peer) => {
        const address = addresses[peer]!;
        let backoff = FIRST_REDIAL_MS;
        while (!await this.#dialOnce(address, peer)) {
          if (this.#closing) return;
          await new Promise((resolve) =>
            setTimeout(resolve, backoff * (0.8 + 0.4 * Math.random()))
          );
          backoff = Math.min(MAX_REDIAL_MS, backoff * 2);
          if (this.#closing) return;
        }
      }),
    );
  }

  /** One attempt to connect to a lower rank: true when done, false to dial again. */
  async #dialOnce(address: string, peer: number): Promise<boolean> {
    const { key, runId, planHash, handshakeTimeoutMs, tls } = this.#security;
    let conn: Deno.Conn;
    try {
      conn = await dial(address, tls, handshakeTimeoutMs);
    } catch (error) {
      // Cut during TLS's handshake, as a flood's eviction does, or dropped by a full accept
      // queue, as a flood's connections fill it: dial again.
      const interrupted = (error instanceof TlsHandshakeError && error.interrupted) ||
        error instanceof ConnectTimeoutError;
      if (interrupted && !this.#closing) return false;
      throw new Error(`Cannot connect to worker ${peer} at ${address}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    if (this.#closing) {
      closeQuietly(conn);
      return true;
    }
    this.#dialling.add(conn);
    let leftover: Uint8Array;
    let session: SessionKeys;
    try {
      ({ leftover, session } = await clientHandshake(conn, {
        channel: "mesh",
        rank: this.rank,
        target: peer,
        world: this.size,
        runId,
        planHash,
        key,
        timeoutMs: handshakeTimeoutMs,
      }));
    } catch (error) {
      closeQuietly(conn);
      if (this.#closing) return true;
      // The peer's verdict: every reason it gives begins with the worker it names.
      if (error instanceof HandshakeError && error.member) {
        throw new WorkerNamedError(error.message);
      }
      if (error instanceof HandshakeError && error.interrupted) return false;
      throw new Error(
        `Cannot connect to worker ${peer} at ${address}: it ${messageOf(error)}`,
        { cause: error },
      );
    } finally {
      this.#dialling.delete(conn);
    }
    if (this.#closing) closeQuietly(conn);
    else this.#attach(peer, conn, leftover, session);
    return true;
  }

  /**
   * Accepts a connection from every higher-ranked member, refusing strangers along the way; an
   * authenticated peer that is refused fails the mesh (rejects), unless it is not a member: a
   * worker the run dropped is told why, warned about, and forming goes on without it.
   */
  async acceptHigher(): Promise<void> {
    const complete = Promise.withResolvers<void>();
    const check = () => {
      if (this.missingPeers().every((peer) => peer < this.rank)) complete.resolve();
    };
    check();
    const { key, runId, planHash, handshakeTimeoutMs, warn } = this.#security;
    const acceptor = this.#acceptor = new MemberAcceptor(this.#listener, {
      handshake: {
        channel: "mesh",
        rank: this.rank,
        world: this.size,
        runId,
        planHash,
        key,
        timeoutMs: handshakeTimeoutMs,
      },
      admit: (offer, admitting) => {
        const peer = offer.rank;
        if (peer <= this.rank || peer >= this.size) {
          return {
            status: VERDICT.rank,
            reason: `Worker ${peer} connected to worker ${this.rank}, but only ranks ${
              this.rank + 1
            }..${this.size - 1} do`,
          };
        }
        if (!this.#isMember[peer]) {
          const reason =
            `Worker ${peer} connected to worker ${this.rank}, but it is not a member (members are ${
              this.members.join(", ")
            })`;
          this.#outsiderReasons.add(reason);
          return { status: VERDICT.rank, reason };
        }
        if (this.#links[peer] !== undefined || admitting.has(peer)) {
          return {
            status: VERDICT.rank,
            reason: `Worker ${this.rank} already has a connection from worker ${peer}`,
          };
        }
        return null;
      },
      wanted: () => this.missingPeers().some((peer) => peer > this.rank),
      closing: () => this.#closing !== null,
      member: (conn, { offer, leftover, session }) => {
        this.#attach(offer.rank, conn, leftover, session);
        check();
      },
      // Every reason this side gives begins with the worker it names.
      refused: (error, remote) => {
        const refusal = `${error.message} (a connection from ${remote})`;
        if (this.#outsiderReasons.has(error.message)) warn(refusal);
        else complete.reject(new WorkerNamedError(refusal));
      },
      warn,
      listenerName: `worker ${this.rank}'s mesh listener`,
      strangerRefused: (remote) => `worker ${this.rank} refused a mesh connection from ${remote}`,
    });
    acceptor.accepting.then(
      () => {
        if (this.#closing) complete.resolve();
      },
      (error) => complete.reject(error),
    );
    await complete.promise;
  }

  #attach(peer: number, conn: Deno.Conn, leftover: Uint8Array, session: SessionKeys): void {
    const link = new TcpLink(conn);
    const mac = this.#security.macFrames === true;
    this.#links[peer] = link;
    if (mac) this.#sessions[peer] = session;
    this.#mailbox.heard(peer);
    const decoder = new FrameDecoder(
      this.#maxPayload,
      (bytes, tag) => this.#places.take(peer, tag, bytes) ?? this.#pool.take(bytes),
      { kinds: [FRAME_DATA, FRAME_HEARTBEAT], trailerBytes: mac ? FRAME_MAC_BYTES : 0 },
    );
    link.startReading(decoder, leftover, {
      frame: (frame) => {
        if (mac) {
          const sequence = session.receive.sequence;
          if (!session.receive.checkFrame(frame)) {
            // "Worker 2 sent mesh frame 7, which failed authentication: the connection …"
            const altered = new FrameAuthError("mesh frame", `worker ${peer}`, sequence).message;
            throw new PeerError(
              peer,
              `sent mesh frame ${sequence}, which${altered.slice(altered.indexOf(" failed"))}`,
            );
          }
        }
        if (frame.source !== peer) {
          throw new PeerError(peer, `sent a frame claiming to come from worker ${frame.source}`);
        }
        if (frame.kind === FRAME_HEARTBEAT) {
          if (frame.payload.byteLength > 0) {
            throw new PeerError(peer, "sent a heartbeat that carries a payload");
          }
          return;
        }
        const bytes = FRAME_HEADER_BYTES + frame.payload.byteLength + (mac ? FRAME_MAC_BYTES : 0);
        this.#mailbox.deliver(
          peer,
          frame.tag,
          frame.payload,
          () => this.#counter.received(frame.phase, bytes),
        );
      },
      heard: () => this.#mailbox.heard(peer),
      end: (error) => this.#mailbox.fail(peer, disconnected(peer, error)),
    });
  }
}

/**
 * Why a peer's link ended: its own protocol error, a frame refused by the decoder, or
 * "disconnected" (with the cause unless it is an ordinary end of connection).
 */
function disconnected(peer: number, error: unknown): PeerError {
  if (error instanceof PeerError) return error;
  if (error instanceof RangeError) {
    return new PeerError(peer, `sent a frame this worker refuses: ${error.message}`);
  }
  const ordinary = error === null || error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.UnexpectedEof;
  return new PeerError(peer, ordinary ? "disconnected" : `disconnected: ${messageOf(error)}`);
}
