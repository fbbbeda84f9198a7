/**
 * The training thread's side of a worker's communication thread (`comm_thread.ts`): a
 * {@linkcode Communicator} whose collectives run on another thread, over sockets that thread
 * owns. While the training thread computes (a long TensorFlow.js kernel never yields to the
 * event loop), the ring keeps moving; a non-blocking all-reduce really runs during computation.
 *
 * Every call copies its vector into a `SharedArrayBuffer` (from a pool), posts the call before
 * returning its promise, and copies the result out when the thread answers. Calls therefore
 * reach the thread in the order they are made, which keeps collectives' tags in step across
 * ranks. Byte counters come back with every answer; `stats()` returns the latest.
 *
 * @module
 */

import { zeroBytes } from "../../dsl/traffic.ts";
import type { InPlaceCommunicator } from "./communicator.ts";
import { checkMembers } from "./_members.ts";
import type { TlsPem } from "./net.ts";
import type {
  Outgoing,
  OutgoingBytes,
  PendingAllGather,
  PendingAllReduce,
  Phase,
  TrafficStats,
} from "./types.ts";
import {
  type CommThreadConnectOptions,
  errorFrom,
  type FromCommThread,
  type ThreadCall,
  type ToCommThread,
} from "./_thread_protocol.ts";

export type { CommThreadConnectOptions } from "./_thread_protocol.ts";

/** A started communication thread, listening for its peers. */
export interface CommThread {
  /** `host:port` of the mesh listener the thread opened. */
  readonly address: string;
  /**
   * Connects the mesh and returns the communicator.
   *
   * @param options This rank, the world size, every rank's address, the members (default
   *   every rank), timeouts and segment size.
   * @returns The communicator, once a connection to every other member is open; its `members`
   *   are the option's.
   * @throws {RangeError} At once, before anything connects, when `members` is not a valid list
   *   ("Invalid members [1, 0]: …").
   * @throws {Error} As `connectTcpMesh` (a {@linkcode PeerError} for a peer that never connects).
   */
  connect(options: CommThreadConnectOptions): Promise<ThreadedCommunicator>;
  /** Closes the sockets and ends the thread; pending calls reject. */
  close(): Promise<void>;
}

/** Options of {@linkcode startCommThread}. */
export interface CommThreadOptions {
  /** The interface the mesh listener binds (default `127.0.0.1`: this host only). */
  readonly hostname?: string;
  /** Listen with TLS: this process's certificate chain and key (PEM). */
  readonly tls?: TlsPem;
}

/** A communicator whose collectives run on a communication thread. */
export interface ThreadedCommunicator extends InPlaceCommunicator {
  /** Closes the sockets and ends the thread; pending calls reject. */
  close(): Promise<void>;
}

/** A settled call's answer. */
type Done = FromCommThread & { type: "done" };

/** Shared buffers by byte length, reused across calls. */
class SharedPool {
  readonly #free = new Map<number, SharedArrayBuffer[]>();

  /** A shared buffer of at least `bytes` bytes (rounded up to 4), holding `data` if given. */
  take(bytes: number): SharedArrayBuffer {
    const size = Math.max(4, Math.ceil(bytes / 4) * 4);
    return this.#free.get(size)?.pop() ?? new SharedArrayBuffer(size);
  }

  /** Gives a buffer back. */
  give(buffer: SharedArrayBuffer): void {
    const list = this.#free.get(buffer.byteLength);
    if (list) list.push(buffer);
    else this.#free.set(buffer.byteLength, [buffer]);
  }
}

/**
 * Starts a communication thread and opens its mesh listener.
 *
 * @param options The interface the listener binds (default `127.0.0.1`) and its TLS material.
 * @returns The thread, with the address peers dial.
 * @throws {Error} When the listener cannot be opened ("Cannot listen on host:port: …").
 * @example Two ranks, each with its own communication thread
 * ```ts
 * import assert from "node:assert/strict";
 * import { startCommThread } from "./threaded_communicator.ts";
 *
 * const threads = await Promise.all([startCommThread(), startCommThread()]);
 * const addresses = threads.map((thread) => thread.address);
 * const comms = await Promise.all(
 *   threads.map((thread, rank) => thread.connect({ rank, size: 2, addresses })),
 * );
 * const sums = await Promise.all(
 *   comms.map((comm) => comm.allReduceSum(Float32Array.of(comm.rank + 1), "base")),
 * );
 * assert.deepEqual([...sums[0]!], [3]);
 * await Promise.all(comms.map((comm) => comm.close()));
 * ```
 */
export async function startCommThread(options: CommThreadOptions = {}): Promise<CommThread> {
  const worker = new Worker(new URL("./comm_thread.ts", import.meta.url), { type: "module" });
  const link = new ThreadLink(worker);
  const listening = await link.request({
    type: "listen",
    hostname: options.hostname ?? "127.0.0.1",
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  }, "listening").catch(async (error) => {
    await link.close();
    throw error;
  });
  return {
    address: (listening as FromCommThread & { type: "listening" }).address,
    async connect(connect) {
      const { network, seed, ...rest } = connect;
      const members = connect.members === undefined
        ? undefined
        : checkMembers(connect.members, connect.rank, connect.size);
      await link.request({
        type: "connect",
        ...definedOnly(rest),
        ...(network ? { network, seed: seed ?? 0 } : {}),
      }, "connected");
      return new ThreadCommunicator(link, connect.rank, connect.size, members);
    },
    close: () => link.close(),
  };
}

/** An object without its undefined properties (they must not be posted as such). */
function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The message channel to one communication thread: requests, calls and their answers. */
class ThreadLink {
  readonly #worker: Worker;
  readonly #calls = new Map<number, { resolve(done: Done): void; reject(error: Error): void }>();
  #request:
    | { type: string; resolve(message: FromCommThread): void; reject(error: Error): void }
    | null = null;
  #nextId = 0;
  #closing: Promise<void> | null = null;
  #closed: () => void = () => {};
  #failure: Error | null = null;
  /** The latest byte counters the thread reported. */
  stats: TrafficStats = { sent: zeroBytes(), received: zeroBytes() };

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<FromCommThread>) => this.#answer(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      this.#fail(new Error(`The communication thread crashed: ${event.message}`));
    };
  }

  /** Sends a setup request and waits for its answer of type `expect`. */
  request(message: ToCommThread, expect: string): Promise<FromCommThread> {
    return new Promise((resolve, reject) => {
      if (this.#failure !== null) return reject(this.#failure);
      this.#request = { type: expect, resolve, reject };
      this.#worker.postMessage(message);
    });
  }

  /** Posts a call now; resolves with its answer. */
  call(call: ThreadCall, transfer: Transferable[] = []): Promise<Done> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const answer = new Promise<Done>((resolve, reject) => this.#calls.set(id, { resolve, reject }));
    this.#worker.postMessage({ type: "call", id, call } satisfies ToCommThread, transfer);
    return answer;
  }

  /** Closes the thread's sockets and ends it; pending calls reject. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#failure === null) {
        const closed = new Promise<void>((resolve) => this.#closed = resolve);
        this.#worker.postMessage({ type: "close" } satisfies ToCommThread);
        // A thread that does not answer within a grace period is ended anyway.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([closed, new Promise((resolve) => timer = setTimeout(resolve, 2000))]);
        clearTimeout(timer);
      }
      this.#fail(new Error("The communication thread is closed"));
      this.#worker.terminate();
    })();
    return this.#closing;
  }

  #answer(message: FromCommThread): void {
    if (message.type === "done" || (message.type === "failed" && message.id !== undefined)) {
      if (message.stats !== undefined) this.stats = message.stats;
      const call = this.#calls.get(message.id!);
      this.#calls.delete(message.id!);
      if (message.type === "done") call?.resolve(message);
      else call?.reject(errorFrom(message.error));
      return;
    }
    if (message.type === "closed") {
      this.#closed();
      return;
    }
    const request = this.#request;
    this.#request = null;
    if (message.type === "failed") request?.reject(errorFrom(message.error));
    else request?.resolve(message);
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const call of this.#calls.values()) call.reject(this.#failure);
    this.#calls.clear();
    this.#request?.reject(this.#failure);
    this.#request = null;
    this.#closed();
  }
}

/** The communicator over a {@linkcode ThreadLink}. */
class ThreadCommunicator implements ThreadedCommunicator {
  readonly #link: ThreadLink;
  readonly #pool = new SharedPool();
  #members: readonly number[];

  /** `members`: what the thread's communicator starts with (default every rank). */
  constructor(
    link: ThreadLink,
    readonly rank: number,
    readonly size: number,
    members?: readonly number[],
  ) {
    this.#link = link;
    this.#members = members ?? Object.freeze(Array.from({ length: size }, (_, rank) => rank));
  }

  get members(): readonly number[] {
    return this.#members;
  }

  /**
   * Checks the members here (a bad list throws at once) and posts them: the thread starts calls
   * in the order they are posted, so every later call runs over them.
   */
  setMembers(members: readonly number[]): void {
    this.#members = checkMembers(members, this.rank, this.size);
    // Checked already, so the thread cannot refuse it; a closed thread fails the next call.
    this.#link.call({ op: "setMembers", members: this.#members }).catch(() => {});
  }

  allReduceSum(data: Float32Array, phase: Phase): Promise<Float32Array> {
    return this.#allReduce(data.slice(), false, phase).then(({ result }) => result);
  }

  allReduceMean(data: Float32Array, phase: Phase): Promise<Float32Array> {
    return this.#allReduce(data.slice(), true, phase).then(({ result }) => result);
  }

  allReduceSumInPlace(data: Float32Array, phase: Phase): Promise<Float32Array> {
    return this.#allReduce(data, false, phase).then(({ result }) => result);
  }

  allReduceMeanInPlace(data: Float32Array, phase: Phase): Promise<Float32Array> {
    return this.#allReduce(data, true, phase).then(({ result }) => result);
  }

  allReduceMeanStart(data: Float32Array, phase: Phase): PendingAllReduce {
    let elapsed: number | null = null;
    const result = this.#allReduce(data.slice(), true, phase).then((done) => {
      elapsed = done.elapsedMs;
      return done.result;
    });
    // Nobody may be waiting yet: a failure is reported by wait(), not as an unhandled rejection.
    result.catch(() => {});
    return { wait: () => result, elapsedMs: () => elapsed };
  }

  broadcast(data: Float32Array, root: number, phase: Phase): Promise<Float32Array> {
    const buffer = this.#pool.take(data.byteLength);
    const shared = new Float32Array(buffer, 0, data.length);
    if (this.rank === root) shared.set(data);
    return this.#link.call({ op: "broadcast", root, phase, buffer, length: data.length }).then(
      () => shared.slice(),
    ).finally(() => this.#pool.give(buffer));
  }

  neighborExchange(
    to: readonly Outgoing[],
    from: readonly number[],
    phase: Phase,
  ): Promise<Map<number, Float32Array>> {
    const outgoing = to.map((each) => {
      const buffer = this.#pool.take(each.data.byteLength);
      new Float32Array(buffer, 0, each.data.length).set(each.data);
      return { rank: each.rank, buffer, length: each.data.length };
    });
    return this.#link.call({ op: "neighborExchange", to: outgoing, from, phase })
      .then((done) => new Map(done.received ?? []))
      .finally(() => {
        for (const each of outgoing) this.#pool.give(each.buffer);
      });
  }

  neighborExchangeBytes(
    to: readonly OutgoingBytes[],
    from: readonly number[],
    phase: Phase,
  ): Promise<Map<number, Uint8Array>> {
    const outgoing = to.map((each) => ({ rank: each.rank, data: each.data.slice() }));
    return this.#link.call({ op: "neighborExchangeBytes", to: outgoing, from, phase })
      .then((done) => new Map(done.receivedBytes ?? []));
  }

  allGather(data: Uint8Array, phase: Phase): Promise<Uint8Array[]> {
    return this.#link.call({ op: "allGather", data: data.slice(), phase }).then((done) => [
      ...done.gathered ?? [],
    ]);
  }

  allGatherStart(data: Uint8Array, phase: Phase): PendingAllGather {
    let elapsed: number | null = null;
    // The communication thread times it, so a busy training thread does not lengthen it.
    const result = this.#link.call({ op: "allGather", data: data.slice(), phase }).then((done) => {
      elapsed = done.elapsedMs;
      return [...done.gathered ?? []];
    });
    // Nobody may be waiting yet: a failure is reported by wait(), not as an unhandled rejection.
    result.catch(() => {});
    return { wait: () => result, elapsedMs: () => elapsed };
  }

  gather(data: Uint8Array, root: number, phase: Phase): Promise<Uint8Array[] | null> {
    return this.#link.call({ op: "gather", data: data.slice(), root, phase }).then((done) =>
      done.gathered === null || done.gathered === undefined ? null : [...done.gathered]
    );
  }

  barrier(): Promise<void> {
    if (this.#members.length === 1) return Promise.resolve(); // nobody to wait for
    return this.#link.call({ op: "barrier" }).then(() => {});
  }

  stats(): TrafficStats {
    const { sent, received } = this.#link.stats;
    return { sent: { ...sent }, received: { ...received } };
  }

  close(): Promise<void> {
    return this.#link.close();
  }

  /**
   * Reduces `data` in place through a shared buffer; posts the call before returning. A lone
   * rank's sum and mean are its own vector (`x / 1 = x` exactly), and nothing is sent: the
   * thread is not asked, which spares every step of a one-worker run two copies and a round
   * trip between threads.
   */
  #allReduce(
    data: Float32Array,
    mean: boolean,
    phase: Phase,
  ): Promise<{ result: Float32Array; elapsedMs: number }> {
    if (this.#members.length === 1) return Promise.resolve({ result: data, elapsedMs: 0 });
    const buffer = this.#pool.take(data.byteLength);
    const shared = new Float32Array(buffer, 0, data.length);
    shared.set(data);
    return this.#link.call({ op: "allReduce", mean, phase, buffer, length: data.length })
      .then((done) => {
        data.set(shared);
        return { result: data, elapsedMs: done.elapsedMs };
      })
      .finally(() => this.#pool.give(buffer));
  }
}
