/**
 * The TCP transport of one rank: forming the mesh (dialling lower ranks, accepting higher
 * ones, the hello handshake), sending over per-peer links and shutting everything down.
 *
 * @module
 */

import { BufferPool } from "./_buffer_pool.ts";
import type { Mailbox } from "./_mailbox.ts";
import { readFrames, TcpLink } from "./_tcp_link.ts";
import { TrafficCounter } from "./_traffic.ts";
import { parseAddress } from "./tcp_address.ts";
import { PeerError, type Phase, type TrafficStats, type Transport } from "./types.ts";
import {
  encodeFrame,
  encodeFrameHeader,
  type Frame,
  FRAME_DATA,
  FRAME_HEADER_BYTES,
  FRAME_HELLO,
  FrameDecoder,
} from "./wire.ts";

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

/** First 4 payload bytes of a hello frame ("gsrm" little-endian). */
const HELLO_MAGIC = 0x6d727367;

/**
 * The hello frame a connecting rank sends first: its rank in the header, the magic number and
 * its world size in the payload.
 *
 * @param rank The connecting rank.
 * @param size The world size it expects.
 * @returns The encoded frame.
 */
export function encodeHello(rank: number, size: number): Uint8Array {
  const hello = new Uint8Array(6);
  const view = new DataView(hello.buffer);
  view.setUint32(0, HELLO_MAGIC, true);
  view.setUint16(4, size, true);
  return encodeFrame({ tag: 0, phase: "control", source: rank, kind: FRAME_HELLO }, hello);
}

/** The transport of one rank of a TCP mesh; built by `connectTcpMesh`. */
export class TcpMeshTransport implements Transport {
  readonly rank: number;
  readonly size: number;
  readonly #listener: Deno.Listener;
  readonly #mailbox: Mailbox;
  readonly #maxPayload: number;
  readonly #counter = new TrafficCounter();
  readonly #pool = new BufferPool();
  readonly #links: (TcpLink | undefined)[];
  /** Connections still in their handshake. */
  readonly #handshakes = new Set<Deno.Conn>();
  readonly #handshaking = new Set<Promise<void>>();
  #accepting: Promise<void> = Promise.resolve();
  #closing: Promise<void> | null = null;
  readonly #shaper: SendShaper | null;
  /** Per peer: shaped frames waiting for their arrival time, in sending order. */
  readonly #arrivals: { frame: Uint8Array; phase: Phase; arriveAt: number }[][] = [];
  /** Per peer: the loop that writes due frames, while any wait. */
  readonly #pumps: (Promise<void> | null)[] = [];
  /** Shaped sends and deliveries waiting for their time, and how to release them early. */
  readonly #timers = new Map<ReturnType<typeof setTimeout>, () => void>();

  /** An unconnected transport; `acceptHigher` and `dialLower` form the mesh. */
  constructor(
    rank: number,
    size: number,
    listener: Deno.Listener,
    mailbox: Mailbox,
    maxPayload: number,
    shaper: SendShaper | null = null,
  ) {
    this.#shaper = shaper;
    this.rank = rank;
    this.size = size;
    this.#listener = listener;
    this.#mailbox = mailbox;
    this.#maxPayload = maxPayload;
    this.#links = new Array(size);
  }

  send(to: number, tag: number, payload: Uint8Array, phase: Phase): Promise<void> {
    try {
      if (this.#closing) throw new Error(`Worker ${this.rank}'s transport is closed`);
      if (!Number.isInteger(to) || to < 0 || to >= this.size) {
        throw new RangeError(`Cannot send to rank ${to}: ranks are 0..${this.size - 1}`);
      }
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
      return link.write(parts, (bytes) => this.#counter.sent(phase, bytes)).catch((error) => {
        if (this.#closing) throw new Error(`Worker ${this.rank}'s transport is closed`);
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
    const { leftAt, arriveAt } = this.#shaper!.transfer(to, frame.byteLength, performance.now());
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
        await link.write(batch.map((each) => each.frame), () => {});
        for (const each of batch) this.#counter.sent(each.phase, each.frame.byteLength);
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
    return this.#mailbox.recv(from, tag);
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

  async #shutdown(): Promise<void> {
    this.#mailbox.close(new Error(`Worker ${this.rank}'s transport is closed`));
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
    for (const conn of this.#handshakes) closeQuietly(conn);
    for (const link of this.#links) link?.close();
    await Promise.allSettled([this.#accepting, ...this.#handshaking]);
    await Promise.all(this.#links.map((link) => link?.settled()));
  }

  /** Ranks without a connection yet. */
  missingPeers(): number[] {
    const missing: number[] = [];
    for (let peer = 0; peer < this.size; peer++) {
      if (peer !== this.rank && !this.#links[peer]) missing.push(peer);
    }
    return missing;
  }

  /** Dials every lower rank and introduces itself. */
  async dialLower(addresses: readonly string[]): Promise<void> {
    await Promise.all(
      addresses.slice(0, this.rank).map(async (address, peer) => {
        const { hostname, port } = parseAddress(address);
        let conn: Deno.TcpConn;
        try {
          conn = await Deno.connect({ hostname, port, transport: "tcp" });
        } catch (error) {
          throw new Error(`Cannot connect to worker ${peer} at ${address}: ${messageOf(error)}`, {
            cause: error,
          });
        }
        if (this.#closing) return closeQuietly(conn);
        conn.setNoDelay(true);
        this.#handshakes.add(conn);
        try {
          const hello = new Uint8Array(6);
          new DataView(hello.buffer).setUint32(0, HELLO_MAGIC, true);
          new DataView(hello.buffer).setUint16(4, this.size, true);
          const frame = encodeFrame(
            { tag: 0, phase: "control", source: this.rank, kind: FRAME_HELLO },
            hello,
          );
          let at = 0;
          while (at < frame.byteLength) at += await conn.write(frame.subarray(at));
        } catch (error) {
          closeQuietly(conn);
          throw new Error(`Cannot connect to worker ${peer} at ${address}: ${messageOf(error)}`, {
            cause: error,
          });
        } finally {
          this.#handshakes.delete(conn);
        }
        this.#attach(peer, conn, this.#decoder(), []);
      }),
    );
  }

  /** Accepts a connection from every higher rank. */
  async acceptHigher(): Promise<void> {
    let settle!: { resolve(): void; reject(error: unknown): void };
    const complete = new Promise<void>((resolve, reject) => settle = { resolve, reject });
    const check = () => {
      if (this.missingPeers().every((peer) => peer < this.rank)) settle.resolve();
    };
    check();
    const accepting = this.#accepting = (async () => {
      while (this.missingPeers().some((peer) => peer > this.rank)) {
        const conn = await this.#listener.accept() as Deno.TcpConn;
        if (this.#closing) return closeQuietly(conn);
        const handshake = this.#handshake(conn).then(check, settle.reject);
        this.#handshaking.add(handshake);
        handshake.finally(() => this.#handshaking.delete(handshake));
      }
    })();
    accepting.catch((error) => {
      if (this.#closing) settle.resolve();
      else settle.reject(error);
    });
    await complete;
  }

  /** Reads the hello frame of an accepted connection; ignores connections that are not peers. */
  async #handshake(conn: Deno.TcpConn): Promise<void> {
    conn.setNoDelay(true);
    this.#handshakes.add(conn);
    const decoder = this.#decoder();
    let frames: Frame[] | null;
    try {
      frames = await readFrames(conn, decoder);
    } catch {
      frames = null; // not a peer speaking our protocol
    } finally {
      this.#handshakes.delete(conn);
    }
    const hello = frames?.[0];
    const view = hello && hello.payload.byteLength === 6
      ? new DataView(hello.payload.buffer)
      : null;
    if (
      !hello || !view || hello.kind !== FRAME_HELLO || view.getUint32(0, true) !== HELLO_MAGIC ||
      this.#closing
    ) {
      return closeQuietly(conn);
    }
    const peer = hello.source;
    const peerSize = view.getUint16(4, true);
    if (peerSize !== this.size) {
      closeQuietly(conn);
      throw new Error(
        `Worker ${peer} expects ${peerSize} workers but worker ${this.rank} expects ${this.size}`,
      );
    }
    if (peer <= this.rank || peer >= this.size || this.#links[peer]) {
      closeQuietly(conn);
      throw new Error(`Worker ${this.rank} got an unexpected connection from worker ${peer}`);
    }
    this.#attach(peer, conn, decoder, frames!.slice(1));
  }

  #decoder(): FrameDecoder {
    return new FrameDecoder(this.#maxPayload, (bytes) => this.#pool.take(bytes));
  }

  #attach(peer: number, conn: Deno.TcpConn, decoder: FrameDecoder, pending: Frame[]): void {
    const link = new TcpLink(conn);
    this.#links[peer] = link;
    link.startReading(decoder, pending, {
      frame: (frame) => {
        if (frame.kind !== FRAME_DATA) return;
        const bytes = FRAME_HEADER_BYTES + frame.payload.byteLength;
        this.#mailbox.deliver(
          peer,
          frame.tag,
          frame.payload,
          () => this.#counter.received(frame.phase, bytes),
        );
      },
      end: (error) => this.#mailbox.fail(peer, disconnected(peer, error)),
    });
  }
}

/** "Worker p disconnected", with the cause unless it is an ordinary end of connection. */
function disconnected(peer: number, error: unknown): PeerError {
  const ordinary = error === null || error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.UnexpectedEof;
  return new PeerError(peer, ordinary ? "disconnected" : `disconnected: ${messageOf(error)}`);
}

/** The message of an error, or the value as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
