/**
 * Per-(sender, tag) message queues with receive timeouts and peer failures, shared by the
 * transports: the read side of a transport delivers into a mailbox, `recv` takes from it.
 *
 * @module
 */

import { PeerError } from "./types.ts";

/** How long `recv` waits for a silent peer by default: 20 s. */
export const DEFAULT_PEER_TIMEOUT_MS = 20_000;

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
  #closed: Error | null = null;

  /**
   * Creates empty queues.
   *
   * @param size Number of ranks.
   * @param timeoutMs How long a `recv` waits before rejecting (`Infinity`: forever).
   */
  constructor(size: number, timeoutMs: number) {
    if (!(timeoutMs > 0)) {
      throw new RangeError(`Peer timeout must be a positive number of ms, got ${timeoutMs}`);
    }
    this.#size = size;
    this.#timeoutMs = timeoutMs;
    this.#queues = Array.from({ length: size }, () => new Map());
    this.#failed = new Array(size);
  }

  /**
   * Hands a message from `from` with `tag` to its first waiter, or queues it.
   *
   * @param from The sender.
   * @param tag The message's tag.
   * @param payload The message.
   * @param taken Called when a receive takes it: the transports count received bytes then, so
   *   a message counts in the step that used it, not in whichever step it happened to arrive.
   */
  deliver(from: number, tag: number, payload: Uint8Array, taken?: () => void): void {
    if (this.#closed) return;
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
    if (queue) queue.messages.push({ payload, taken });
    else queues.set(tag, { messages: [{ payload, taken }], waiters: [] });
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
      if (queue.messages.length === 0 && queue.waiters.length === 0) queues.delete(tag);
      taken?.();
      return Promise.resolve(payload);
    }
    const failure = this.#closed ?? this.#failed[from];
    if (failure) return Promise.reject(failure);
    return new Promise<Uint8Array>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      if (Number.isFinite(this.#timeoutMs)) {
        waiter.timer = setTimeout(() => {
          this.#remove(from, tag, waiter);
          reject(new PeerError(from, `did not answer within ${this.#timeoutMs} ms`));
        }, this.#timeoutMs);
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
