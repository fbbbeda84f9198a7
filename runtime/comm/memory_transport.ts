/**
 * The memory transport: every rank in one thread, messages handed over through in-memory
 * queues. It is a real transport, not a mock: it encodes each message's frame header as the
 * TCP transport does, so it validates the same way and counts exactly the bytes TCP writes
 * (header plus payload), and closing one rank looks to the others like a TCP peer
 * disconnecting. Payloads are copied when `send` is called.
 *
 * @module
 */

import { BufferPool } from "./_buffer_pool.ts";
import { createCommunicator } from "./communicator.ts";
import { DEFAULT_PEER_TIMEOUT_MS, Mailbox } from "./_mailbox.ts";
import { TrafficCounter } from "./_traffic.ts";
import {
  type Communicator,
  PeerError,
  type Phase,
  type TrafficStats,
  type Transport,
} from "./types.ts";
import { encodeFrameHeader } from "./wire.ts";
import { WorkerNamedError } from "../errors.ts";

/** Options of {@linkcode createMemoryTransports}. */
export interface MemoryTransportOptions {
  /**
   * How long `recv` waits for a message before rejecting with a {@linkcode PeerError}, in ms
   * (default 20 000; `Infinity` waits forever).
   */
  readonly timeoutMs?: number;
}

/**
 * Creates `n` connected transports that live in this thread.
 *
 * A message to oneself is delivered without being counted (it never reaches a socket).
 * Closing a transport makes the other ranks' receives from it reject with
 * "Worker r disconnected".
 *
 * @param n Number of ranks (at least 1).
 * @param options Receive timeout.
 * @returns One transport per rank, in rank order.
 * @throws {RangeError} When `n` is not a positive integer or the timeout is not positive.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FRAME_HEADER_BYTES } from "./wire.ts";
 * const [a, b] = createMemoryTransports(2);
 * await a!.send(1, 5, new Uint8Array([1, 2]), "base");
 * assert.deepEqual([...await b!.recv(0, 5)], [1, 2]);
 * assert.equal(a!.stats().sent.base, FRAME_HEADER_BYTES + 2);
 * await Promise.all([a!.close(), b!.close()]);
 * ```
 */
export function createMemoryTransports(
  n: number,
  options: MemoryTransportOptions = {},
): Transport[] {
  if (!Number.isInteger(n) || n < 1 || n > 0xffff) {
    throw new RangeError(`Cannot create memory transports: n must be 1..65535, got ${n}`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
  const ranks: MemoryTransport[] = [];
  const pool = new BufferPool();
  for (let rank = 0; rank < n; rank++) {
    ranks.push(new MemoryTransport(rank, ranks, n, timeoutMs, pool));
  }
  return ranks;
}

/**
 * Creates `n` communicators over memory transports, for tests and simulations.
 *
 * The transports hold no operating-system resources; a timer runs only while a receive waits.
 *
 * @param n Number of ranks.
 * @param options Receive timeout.
 * @returns One communicator per rank, in rank order.
 * @throws {RangeError} When `n` is not a positive integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const comms = createMemoryCommunicators(3);
 * const sums = await Promise.all(
 *   comms.map((comm) => comm.allReduceSum(new Float32Array([comm.rank, 1]), "base")),
 * );
 * assert.deepEqual([...sums[2]!], [3, 3]);
 * ```
 */
export function createMemoryCommunicators(
  n: number,
  options: MemoryTransportOptions = {},
): Communicator[] {
  return createMemoryTransports(n, options).map((transport) => createCommunicator(transport));
}

class MemoryTransport implements Transport {
  readonly rank: number;
  readonly #ranks: readonly MemoryTransport[];
  readonly #counter = new TrafficCounter();
  readonly #pool: BufferPool;
  readonly mailbox: Mailbox;
  closed = false;

  constructor(
    rank: number,
    ranks: readonly MemoryTransport[],
    n: number,
    timeoutMs: number,
    pool: BufferPool,
  ) {
    this.rank = rank;
    this.#ranks = ranks;
    this.#pool = pool;
    this.mailbox = new Mailbox(n, timeoutMs);
  }

  get size(): number {
    return this.#ranks.length;
  }

  send(to: number, tag: number, payload: Uint8Array, phase: Phase): Promise<void> {
    try {
      if (this.closed) throw new WorkerNamedError(`Worker ${this.rank}'s transport is closed`);
      const peer = this.#ranks[to];
      if (!Number.isInteger(to) || peer === undefined) {
        throw new RangeError(`Cannot send to rank ${to}: ranks are 0..${this.size - 1}`);
      }
      // Validates like the TCP transport; the payload is copied at call time.
      const header = encodeFrameHeader({ tag, phase, source: this.rank }, payload.byteLength);
      const copy = this.#pool.take(payload.byteLength);
      copy.set(payload);
      if (to === this.rank) {
        this.mailbox.deliver(to, tag, copy);
        return Promise.resolve();
      }
      if (peer.closed) throw new PeerError(to, "disconnected");
      const frameBytes = header.byteLength + copy.byteLength;
      this.#counter.sent(phase, frameBytes);
      peer.mailbox.deliver(this.rank, tag, copy, () => peer.#counter.received(phase, frameBytes));
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  recv(from: number, tag: number): Promise<Uint8Array> {
    return this.mailbox.recv(from, tag);
  }

  /** Takes back a payload returned by `recv` (see `_buffer_pool.ts`). */
  recycle(payload: Uint8Array): void {
    this.#pool.give(payload);
  }

  stats(): TrafficStats {
    return this.#counter.snapshot();
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.mailbox.close(new WorkerNamedError(`Worker ${this.rank}'s transport is closed`));
    for (const other of this.#ranks) {
      if (other !== this) other.mailbox.fail(this.rank, new PeerError(this.rank, "disconnected"));
    }
    return Promise.resolve();
  }
}
