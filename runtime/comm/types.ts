/**
 * The communication contract between algorithms and transports.
 *
 * Layers (after torchft): a {@linkcode Transport} moves tagged byte messages between ranks and
 * counts the bytes it writes and reads; a {@linkcode Communicator} builds collectives on any
 * transport; algorithms see only the communicator. The memory transport (one thread) and the
 * TCP transport (Web Workers or processes) run the same collective code, which is what makes
 * their results bit-identical.
 *
 * @module
 */

import type { Phase, PhaseBytes } from "../../dsl/traffic.ts";

// The traffic vocabulary is shared with the plan explainer and the run summary.
export { type Phase, type PhaseBytes, PHASES } from "../../dsl/traffic.ts";

/** Bytes written to and read from the transport by one worker, per phase. */
export interface TrafficStats {
  /** Bytes written, frame headers included. */
  readonly sent: PhaseBytes;
  /** Bytes read, frame headers included. */
  readonly received: PhaseBytes;
}

/**
 * Point-to-point tagged messages between the ranks of one run.
 *
 * Messages from one peer with one tag are delivered in order; `recv(from, tag)` waits for the
 * next message from `from` with `tag`. Bytes are counted where they are written (frame headers
 * included) and where they are read.
 */
export interface Transport {
  /** This rank, `0..size-1`. */
  readonly rank: number;
  /** Number of ranks. */
  readonly size: number;
  /**
   * The ranks this transport connects, ascending, when only some of the run's are (a TCP mesh
   * formed over the survivors of a lost worker); absent or every rank otherwise. A communicator
   * built on it starts with these members (`Communicator.setMembers`).
   */
  readonly members?: readonly number[];
  /** Sends `payload` to rank `to`; resolves once the bytes are handed to the socket (or queue). */
  send(to: number, tag: number, payload: Uint8Array, phase: Phase): Promise<void>;
  /**
   * Receives the next message from rank `from` with `tag`.
   * @throws {PeerError} When the peer disconnects or does not answer within the timeout.
   */
  recv(from: number, tag: number): Promise<Uint8Array>;
  /** Bytes counted so far. */
  stats(): TrafficStats;
  /** Closes every connection; pending receives reject. */
  close(): Promise<void>;
}

/** A peer failed: disconnected, timed out or reported an error. */
export class PeerError extends Error {
  /**
   * Builds the error; its message is "Worker {peer} {detail}".
   *
   * @param peer The rank that failed.
   * @param detail What happened.
   */
  constructor(readonly peer: number, readonly detail: string) {
    super(`Worker ${peer} ${detail}`);
    this.name = "PeerError";
  }
}

/** A message to one neighbour. */
export interface Outgoing {
  /** The receiving rank. */
  readonly rank: number;
  /** The vector to send (do not change it until the exchange resolves). */
  readonly data: Float32Array;
}

/** Bytes to one neighbour (an encoded vector: a compressed code). */
export interface OutgoingBytes {
  /** The receiving rank. */
  readonly rank: number;
  /** The bytes to send (do not change them until the exchange resolves). */
  readonly data: Uint8Array;
}

/** An all-reduce in flight (for Overlap Local-SGD): computation continues until `wait()`. */
export interface PendingAllReduce {
  /** Resolves to the element-wise mean (or sum) once every rank has contributed. */
  wait(): Promise<Float32Array>;
  /**
   * How long the all-reduce itself took, from its start to its result, in milliseconds; `null`
   * while it is still running. Beside the time `wait()` blocked, it shows how much of the
   * communication was hidden behind computation.
   */
  elapsedMs(): number | null;
}

/** An all-gather in flight (Streaming DiLoCo's overlapped sync): computation continues until `wait()`. */
export interface PendingAllGather {
  /** Resolves to every rank's bytes, in rank order, once every rank has sent. */
  wait(): Promise<Uint8Array[]>;
  /** How long the all-gather itself took, from its start to its result, in ms; `null` while running. */
  elapsedMs(): number | null;
}

/**
 * Collectives over a transport. Every rank must call the same collectives in the same order
 * (the usual MPI rule); results are bit-identical on every rank.
 */
export interface Communicator {
  /** This rank, `0..size-1`. */
  readonly rank: number;
  /** Number of ranks. */
  readonly size: number;
  /**
   * The ranks that take part in the collectives, ascending: every rank unless
   * {@linkcode Communicator.setMembers} narrowed them (an elastic run that lost workers).
   */
  readonly members: readonly number[];
  /**
   * From the next collective on, runs every collective over `members` only (ranks of the run,
   * distinct, ascending, this rank among them): the all-reduces are the ring over the members in
   * their order (a mean divides by the member count), all-gather and gather return the members'
   * entries in member order, broadcast and gather roots and neighbours must be members, and the
   * barrier waits for the members. Ranks outside are never contacted. Every member must set the
   * same members between the same two collectives.
   *
   * @throws {RangeError} When the members are not such a list.
   */
  setMembers(members: readonly number[]): void;
  /** Element-wise sum over ranks (ring reduce-scatter + all-gather, chunked and pipelined). */
  allReduceSum(data: Float32Array, phase: Phase): Promise<Float32Array>;
  /** Element-wise mean over ranks: the sum divided by the member count (`size` unless narrowed). */
  allReduceMean(data: Float32Array, phase: Phase): Promise<Float32Array>;
  /** `allReduceSum` that writes the result into `data` (no copy) and returns it. */
  allReduceSumInPlace(data: Float32Array, phase: Phase): Promise<Float32Array>;
  /** `allReduceMean` that writes the result into `data` (no copy) and returns it. */
  allReduceMeanInPlace(data: Float32Array, phase: Phase): Promise<Float32Array>;
  /** Starts a mean all-reduce without waiting for it. */
  allReduceMeanStart(data: Float32Array, phase: Phase): PendingAllReduce;
  /** Copies `data` from `root` to every rank (`data` is ignored elsewhere; pass its length). */
  broadcast(data: Float32Array, root: number, phase: Phase): Promise<Float32Array>;
  /**
   * Sends to each outgoing neighbour and receives one vector from each rank in `from`.
   * @returns Received vectors keyed by sender rank.
   */
  neighborExchange(
    to: readonly Outgoing[],
    from: readonly number[],
    phase: Phase,
  ): Promise<Map<number, Float32Array>>;
  /**
   * {@linkcode Communicator.neighborExchange} for bytes (compressed codes, CHOCO-SGD's `q_i`):
   * one message per outgoing neighbour, counted as written, any length.
   * @returns Received bytes keyed by sender rank.
   */
  neighborExchangeBytes(
    to: readonly OutgoingBytes[],
    from: readonly number[],
    phase: Phase,
  ): Promise<Map<number, Uint8Array>>;
  /**
   * Every member's bytes, in member order (rank order unless narrowed), on every member (for
   * non-linear compressed codes).
   */
  allGather(data: Uint8Array, phase: Phase): Promise<Uint8Array[]>;
  /** Starts an all-gather without waiting for it (`data` is copied, so it may change at once). */
  allGatherStart(data: Uint8Array, phase: Phase): PendingAllGather;
  /** Every member's bytes at `root` (in member order); `null` elsewhere. */
  gather(data: Uint8Array, root: number, phase: Phase): Promise<Uint8Array[] | null>;
  /** Waits until every rank has reached the barrier. */
  barrier(): Promise<void>;
  /** Bytes counted by the transport so far. */
  stats(): TrafficStats;
}
