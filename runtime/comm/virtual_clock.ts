/**
 * The virtual clock (`gossamer run … --clock virtual`): nothing sleeps; every worker carries a
 * simulated clock that advances by its compute time and by the modelled transfer time of what it
 * waits for. All ranks run in one thread over the memory transport, so a message's simulated
 * arrival time travels beside it on an {@linkcode ArrivalBoard}.
 *
 * Collectives run on lanes. A collective starts a lane at its worker's clock; a message sent on
 * the lane leaves at the lane's time, through the sender's link queue (`links.ts`); receiving
 * moves the lane to the message's arrival. When a blocking collective returns, the worker's clock
 * moves to its lane's end: the slowest sender decides, as at a real barrier. A non-blocking
 * collective's lane runs on its own while the worker computes, and joins the worker's clock only
 * when the worker waits for it: true overlap. Collectives of phase `control` (the broadcast of
 * `x_0`, evaluation's average, the final barrier) are free: they measure the run, they are not
 * part of it.
 *
 * @module
 */

import type {
  Communicator,
  Outgoing,
  OutgoingBytes,
  PendingAllGather,
  PendingAllReduce,
  Phase,
  TrafficStats,
  Transport,
} from "./types.ts";
import { receiveInto } from "./_receive_into.ts";
import { frameBytes } from "./wire.ts";
import type { LinkSchedule } from "../network/links.ts";
import { WorkerNamedError } from "../errors.ts";

/** One worker's simulated time, in ms. */
export class VirtualClock {
  /** The worker's simulated time now, in ms. */
  now = 0;

  /**
   * Moves the clock on by `ms`.
   *
   * @param ms Milliseconds (not negative).
   */
  advance(ms: number): void {
    this.now += Math.max(0, ms);
  }

  /**
   * Moves the clock to `t` if that is later.
   *
   * @param t A simulated time, in ms.
   */
  advanceTo(t: number): void {
    if (t > this.now) this.now = t;
  }
}

/**
 * The simulated arrival times of messages in flight, in sending order per sender, receiver and
 * tag (the order the memory transport delivers them in).
 */
export class ArrivalBoard {
  readonly #queues = new Map<string, number[]>();

  /**
   * Records that a message from `from` to `to` with `tag` arrives at `t`.
   *
   * @param from The sender.
   * @param to The receiver.
   * @param tag The message's tag.
   * @param t Its simulated arrival time.
   */
  push(from: number, to: number, tag: number, t: number): void {
    const key = `${from}>${to}#${tag}`;
    const queue = this.#queues.get(key);
    if (queue) queue.push(t);
    else this.#queues.set(key, [t]);
  }

  /**
   * The arrival time of the next message from `from` to `to` with `tag`.
   *
   * @param from The sender.
   * @param to The receiver.
   * @param tag The message's tag.
   * @returns Its simulated arrival time.
   * @throws {Error} When no such message was sent.
   */
  shift(from: number, to: number, tag: number): number {
    const key = `${from}>${to}#${tag}`;
    const queue = this.#queues.get(key);
    const t = queue?.shift();
    if (t === undefined) {
      throw new Error(`No simulated message from ${from} to ${to} on tag ${tag}`);
    }
    if (queue!.length === 0) this.#queues.delete(key);
    return t;
  }
}

/** The simulated time of one collective call. */
interface Lane {
  time: number;
  /** A free lane (phase `control`): its messages take no time and use no link. */
  readonly free: boolean;
}

/** A transport whose messages carry simulated times on lanes. */
class VirtualTransport implements Transport {
  readonly #inner: Transport;
  readonly #links: LinkSchedule;
  readonly #board: ArrivalBoard;
  readonly #lanes = new Map<number, Lane>();
  /** The lane that tags first seen now belong to (set while a collective starts). */
  opening: Lane | null = null;

  constructor(inner: Transport, links: LinkSchedule, board: ArrivalBoard) {
    this.#inner = inner;
    this.#links = links;
    this.#board = board;
  }

  get rank(): number {
    return this.#inner.rank;
  }

  get size(): number {
    return this.#inner.size;
  }

  send(to: number, tag: number, payload: Uint8Array, phase: Phase): Promise<void> {
    const lane = this.#lane(tag);
    const arriveAt = lane.free || to === this.rank
      ? lane.time
      : this.#links.transfer(to, frameBytes(payload.byteLength), lane.time).arriveAt;
    this.#board.push(this.rank, to, tag, arriveAt);
    return this.#inner.send(to, tag, payload, phase);
  }

  async recv(from: number, tag: number): Promise<Uint8Array> {
    const lane = this.#lane(tag);
    const payload = await this.#inner.recv(from, tag);
    const arriveAt = this.#board.shift(from, this.rank, tag);
    if (arriveAt > lane.time) lane.time = arriveAt;
    return payload;
  }

  /**
   * Binds `tag` to the collective starting now (the ring posts its all-gather's tag before it
   * sends on it) and posts the places to the inner transport, if it can read into them.
   */
  receiveInto(from: number, tag: number, targets: readonly Uint8Array[]): () => void {
    this.#lane(tag);
    return receiveInto(this.#inner, from, tag, targets);
  }

  /** Takes back a payload (the inner transport's buffer pool, if it has one). */
  recycle(payload: Uint8Array): void {
    (this.#inner as Transport & { recycle?(payload: Uint8Array): void }).recycle?.(payload);
  }

  stats(): TrafficStats {
    return this.#inner.stats();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  /** Forgets the tags of a finished lane. */
  release(lane: Lane): void {
    for (const [tag, owner] of this.#lanes) if (owner === lane) this.#lanes.delete(tag);
  }

  #lane(tag: number): Lane {
    let lane = this.#lanes.get(tag);
    if (lane === undefined) {
      if (this.opening === null) {
        throw new WorkerNamedError(
          `Worker ${this.rank}: a message on tag ${tag} outside any collective`,
        );
      }
      lane = this.opening;
      this.#lanes.set(tag, lane);
    }
    return lane;
  }
}

/** One worker's transport and communicator on the virtual clock. */
export interface VirtualWorker {
  /** The transport to build the worker's communicator on. */
  readonly transport: Transport;
  /**
   * Wraps the communicator built on {@linkcode VirtualWorker.transport} so that each collective
   * runs on a lane of the worker's clock.
   */
  readonly wrap: (comm: Communicator) => Communicator;
}

/**
 * Puts one worker's transport on the virtual clock.
 *
 * @param inner The worker's memory transport.
 * @param clock The worker's clock.
 * @param links The worker's outgoing link queues.
 * @param board The arrival board every rank of the run shares.
 * @returns The transport to build the communicator on, and the wrapper for that communicator.
 */
export function virtualWorker(
  inner: Transport,
  clock: VirtualClock,
  links: LinkSchedule,
  board: ArrivalBoard,
): VirtualWorker {
  const transport = new VirtualTransport(inner, links, board);
  /** Starts a collective on a fresh lane; its first messages (sent synchronously) bind it. */
  const start = <T>(phase: Phase, run: () => Promise<T>): { lane: Lane; result: Promise<T> } => {
    const lane: Lane = { time: clock.now, free: phase === "control" };
    transport.opening = lane;
    try {
      return { lane, result: run() };
    } finally {
      transport.opening = null;
    }
  };
  /** A blocking collective: the worker's clock moves to the end of its lane. */
  const blocking = <T>(phase: Phase, run: () => Promise<T>): Promise<T> => {
    const { lane, result } = start(phase, run);
    return result.then((value) => {
      if (!lane.free) clock.advanceTo(lane.time);
      return value;
    }).finally(() => transport.release(lane));
  };
  /**
   * A collective started now and waited for later (an overlapped average or gather): it runs on
   * its own lane while the worker computes, and waiting moves the worker's clock to when the
   * result arrived, if that is later.
   */
  const overlapped = <T>(
    phase: Phase,
    begin: () => { wait(): Promise<T>; elapsedMs(): number | null },
  ): { wait(): Promise<T>; elapsedMs(): number | null } => {
    const startedAt = clock.now;
    let pending!: { wait(): Promise<T>; elapsedMs(): number | null };
    const { lane } = start(phase, () => {
      pending = begin();
      return Promise.resolve();
    });
    const result = pending.wait().then((value) => {
      transport.release(lane);
      return value;
    });
    result.catch(() => {});
    return {
      wait: () =>
        result.then((value) => {
          if (!lane.free) clock.advanceTo(lane.time);
          return value;
        }),
      elapsedMs: () => pending.elapsedMs() === null ? null : lane.time - startedAt,
    };
  };
  const wrap = (comm: Communicator): Communicator => ({
    rank: comm.rank,
    size: comm.size,
    get members() {
      return comm.members;
    },
    setMembers: (members) => comm.setMembers(members),
    allReduceSum: (data, phase) => blocking(phase, () => comm.allReduceSum(data, phase)),
    allReduceMean: (data, phase) => blocking(phase, () => comm.allReduceMean(data, phase)),
    allReduceSumInPlace: (data, phase) =>
      blocking(phase, () => comm.allReduceSumInPlace(data, phase)),
    allReduceMeanInPlace: (data, phase) =>
      blocking(phase, () => comm.allReduceMeanInPlace(data, phase)),
    allReduceMeanStart: (data, phase): PendingAllReduce =>
      overlapped(phase, () => comm.allReduceMeanStart(data, phase)),
    broadcast: (data, root, phase) => blocking(phase, () => comm.broadcast(data, root, phase)),
    neighborExchange: (to: readonly Outgoing[], from, phase) =>
      blocking(phase, () => comm.neighborExchange(to, from, phase)),
    neighborExchangeBytes: (to: readonly OutgoingBytes[], from, phase) =>
      blocking(phase, () => comm.neighborExchangeBytes(to, from, phase)),
    allGather: (data, phase) => blocking(phase, () => comm.allGather(data, phase)),
    allGatherStart: (data, phase): PendingAllGather =>
      overlapped(phase, () => comm.allGatherStart(data, phase)),
    gather: (data, root, phase) => blocking(phase, () => comm.gather(data, root, phase)),
    barrier: () => blocking("control", () => comm.barrier()),
    stats: () => comm.stats(),
  });
  return { transport, wrap };
}
