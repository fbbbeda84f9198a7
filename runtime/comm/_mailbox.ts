/**
 * Per-(sender, tag) message queues with receive timeouts and peer failures, shared by the
 * transports: the read side of a transport delivers into a mailbox, `recv` takes from it.
 *
 * A receive fails when its peer has been silent for the timeout: no byte of any kind from it
 * (the TCP transport reports every read with {@linkcode Mailbox.heard}, heartbeats included)
 * since the later of the receive's start and the peer's last bytes. With heartbeats, a peer
 * that computes or evaluates for minutes is never taken for a dead one, while a dead or frozen
 * process is noticed after the timeout.
 *
 * What a peer may leave queued is bounded ({@linkcode MailboxLimits}): a peer that sends more
 * than anyone asks for, or tags far from the ones this rank is at, is a failure naming it, not
 * a queue that grows without end.
 *
 * @module
 */

import { PeerError } from "./types.ts";

/** How long `recv` waits for a silent peer by default: 20 s. */
export const DEFAULT_PEER_TIMEOUT_MS = 20_000;

/** Bounds on what a peer may leave queued. */
export interface MailboxLimits {
  /** Most bytes of messages not yet taken that one peer may have queued (default: no bound). */
  readonly maxQueuedBytes?: number;
  /**
   * Messages whose tag is further than this from the newest tag this rank has seen (sent to it
   * or asked for) are refused (default: any tag). The communicator numbers its collectives in
   * order, so a peer's tags stay within a few collectives of this rank's.
   */
  readonly tagWindow?: number;
}

interface Waiter {
  resolve(payload: Uint8Array): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface Queued {
  readonly payload: Uint8Array;
  /** Called when a receive takes the message (the transports count its bytes then). */
  readonly taken: (() => void) | undefined;
}

interface Queue {
  readonly messages: Queued[];
  readonly waiters: Waiter[];
}

/** The receive side of one rank. */
export class Mailbox {
  readonly #size: number;
  readonly #timeoutMs: number;
  /** Queues by sender, then tag; a queue is dropped once empty. */
  readonly #queues: Map<number, Queue>[];
  readonly #failed: (PeerError | undefined)[];
  /** When each peer's bytes last arrived (`performance.now()` time; 0: never). */
  readonly #lastHeard: Float64Array;
  /** Bytes of each peer's messages not yet taken. */
  readonly #queuedBytes: Float64Array;
  readonly #limits: MailboxLimits;
  /** The newest tag seen, for the tag window (−1: none yet). */
  #newestTag = -1;
  #closed: Error | null = null;

  /**
   * Creates empty queues.
   *
   * @param size Number of ranks.
   * @param timeoutMs How long a `recv` waits for a silent peer before rejecting (`Infinity`:
   *   forever).
   * @param limits Bounds on what a peer may leave queued.
   */
  constructor(size: number, timeoutMs: number, limits: MailboxLimits = {}) {
    if (!(timeoutMs > 0)) {
      throw new RangeError(`Peer timeout must be a positive number of ms, got ${timeoutMs}`);
    }
    this.#size = size;
    this.#timeoutMs = timeoutMs;
    this.#limits = limits;
    this.#queues = Array.from({ length: size }, () => new Map());
    this.#failed = new Array(size);
    this.#lastHeard = new Float64Array(size);
    this.#queuedBytes = new Float64Array(size);
  }

  /**
   * Records that bytes of any kind arrived from `from` now: the peer is alive.
   *
   * @param from The peer.
   */
  heard(from: number): void {
    this.#lastHeard[from] = performance.now();
  }

  /**
   * Hands a message from `from` with `tag` to its first waiter, or queues it.
   *
   * @param from The sender.
   * @param tag The message's tag.
   * @param payload The message.
   * @param taken Called when a receive takes it: the transports count received bytes then, so
   *   a message counts in the step that used it, not in whichever step it happened to arrive.
   * @throws {PeerError} When the message breaks the {@linkcode MailboxLimits}: the transport
   *   then drops the peer's connection and fails the peer with this error.
   */
  deliver(from: number, tag: number, payload: Uint8Array, taken?: () => void): void {
    if (this.#closed) return;
    this.#checkTag(from, tag);
    const queues = this.#queues[from]!;
    const queue = queues.get(tag);
    const waiter = queue?.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      if (queue!.waiters.length === 0) queues.delete(tag);
      taken?.();
      waiter.resolve(payload);
      return;
    }
    const queued = this.#queuedBytes[from]! + payload.byteLength;
    const max = this.#limits.maxQueuedBytes;
    if (max !== undefined && queued > max) {
      throw new PeerError(
        from,
        `sent ${queued} bytes that nobody has asked for (at most ${max} may wait)`,
      );
    }
    this.#queuedBytes[from] = queued;
    if (queue) queue.messages.push({ payload, taken });
    else queues.set(tag, { messages: [{ payload, taken }], waiters: [] });
  }

  /** Refuses a tag outside the window around the newest tag seen; moves the window. */
  #checkTag(from: number, tag: number): void {
    const window = this.#limits.tagWindow;
    if (window === undefined) return;
    const newest = Math.max(this.#newestTag, 0);
    if (tag > newest + window || tag < newest - window) {
      throw new PeerError(
        from,
        `sent a message with tag ${tag}, outside the tags ${Math.max(0, newest - window)}..${
          newest + window
        } this worker expects`,
      );
    }
    if (tag > this.#newestTag) this.#newestTag = tag;
  }

  /**
   * The next message from `from` with `tag`: a queued one at once, else the next delivered.
   *
   * @throws {PeerError} When the peer failed (and nothing is queued) or the timeout passes.
   */
  recv(from: number, tag: number): Promise<Uint8Array> {
    if (!Number.isInteger(from) || from < 0 || from >= this.#size) {
      return Promise.reject(
        new RangeError(`Cannot receive from rank ${from}: ranks are 0..${this.#size - 1}`),
      );
    }
    const queues = this.#queues[from]!;
    const queue = queues.get(tag);
    if (queue && queue.messages.length > 0) {
      const { payload, taken } = queue.messages.shift()!;
      this.#queuedBytes[from]! -= payload.byteLength;
      if (queue.messages.length === 0 && queue.waiters.length === 0) queues.delete(tag);
      taken?.();
      return Promise.resolve(payload);
    }
    const failure = this.#closed ?? this.#failed[from];
    if (failure) return Promise.reject(failure);
    if (this.#limits.tagWindow !== undefined && tag > this.#newestTag) this.#newestTag = tag;
    return new Promise<Uint8Array>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      if (Number.isFinite(this.#timeoutMs)) {
        const started = performance.now();
        // Silence is measured from the later of this receive's start and the peer's last
        // bytes; bytes arriving meanwhile (a heartbeat) push the deadline back.
        const arm = (wait: number) => {
          waiter.timer = setTimeout(() => {
            const silent = performance.now() - Math.max(started, this.#lastHeard[from]!);
            if (silent < this.#timeoutMs) return arm(this.#timeoutMs - silent);
            this.#remove(from, tag, waiter);
            reject(new PeerError(from, `did not answer within ${this.#timeoutMs} ms`));
          }, wait);
        };
        arm(this.#timeoutMs);
      }
      const waiting = queue ?? { messages: [], waiters: [] };
      waiting.waiters.push(waiter);
      queues.set(tag, waiting);
    });
  }

  /** Marks `from` as failed: its pending receives reject now, later ones once drained. */
  fail(from: number, error: PeerError): void {
    if (this.#failed[from] || this.#closed) return;
    this.#failed[from] = error;
    this.#rejectAll(this.#queues[from]!, error);
  }

  /** The failure recorded for `peer`, if any. */
  failure(peer: number): PeerError | undefined {
    return this.#failed[peer];
  }

  /** Rejects every pending and later receive with `error`. */
  close(error: Error): void {
    if (this.#closed) return;
    this.#closed = error;
    for (const queues of this.#queues) this.#rejectAll(queues, error);
  }

  #rejectAll(queues: Map<number, Queue>, error: Error): void {
    for (const [tag, queue] of queues) {
      for (const waiter of queue.waiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(error);
      }
      if (queue.messages.length === 0) queues.delete(tag);
    }
  }

  #remove(from: number, tag: number, waiter: Waiter): void {
    const queues = this.#queues[from]!;
    const queue = queues.get(tag);
    if (!queue) return;
    const index = queue.waiters.indexOf(waiter);
    if (index >= 0) queue.waiters.splice(index, 1);
    if (queue.waiters.length === 0 && queue.messages.length === 0) queues.delete(tag);
  }
}
