/**
 * The messages between a worker's training thread and its communication thread
 * (`comm_thread.ts`, `threaded_communicator.ts`). Vectors that collectives work on in place
 * travel in `SharedArrayBuffer`s both threads see; variable-sized results (neighbours' vectors,
 * gathered codes) come back as transferred buffers. Errors cross as plain data and are rebuilt
 * with their class, so a {@linkcode PeerError} stays a `PeerError` and a `WorkerNamedError` (a
 * message that names its worker, `../errors.ts`) a `WorkerNamedError`.
 *
 * @module
 */

import type { SharedArena } from "./shared_reduce.ts";
import type { NetworkNode } from "../../dsl/plan.ts";
import type { Phase } from "../../dsl/traffic.ts";
import type { MailboxLimits } from "./_mailbox.ts";
import type { TlsPem } from "./net.ts";
import { PeerError, type TrafficStats } from "./types.ts";
import { messageOf, WorkerNamedError } from "../errors.ts";

/** A collective call, as the communication thread runs it. */
export type ThreadCall =
  | {
    readonly op: "allReduce";
    readonly mean: boolean;
    readonly phase: Phase;
    /** The vector, reduced in place: `length` float32 values from offset 0. */
    readonly buffer: SharedArrayBuffer;
    readonly length: number;
  }
  | {
    readonly op: "broadcast";
    readonly root: number;
    readonly phase: Phase;
    /** The root's vector in, every rank's copy out: `length` float32 values. */
    readonly buffer: SharedArrayBuffer;
    readonly length: number;
  }
  | {
    readonly op: "neighborExchange";
    readonly to: readonly {
      readonly rank: number;
      readonly buffer: SharedArrayBuffer;
      readonly length: number;
    }[];
    readonly from: readonly number[];
    readonly phase: Phase;
  }
  | {
    readonly op: "neighborExchangeBytes";
    /** Each neighbour's bytes, copied into the message. */
    readonly to: readonly { readonly rank: number; readonly data: Uint8Array }[];
    readonly from: readonly number[];
    readonly phase: Phase;
  }
  | { readonly op: "allGather"; readonly data: Uint8Array; readonly phase: Phase }
  | {
    readonly op: "gather";
    readonly data: Uint8Array;
    readonly root: number;
    readonly phase: Phase;
  }
  | { readonly op: "barrier" }
  /** From the next call on, the collectives run over these ranks (`Communicator.setMembers`). */
  | { readonly op: "setMembers"; readonly members: readonly number[] };

/** Options of `CommThread.connect` (`threaded_communicator.ts`), and of the connect message. */
export interface CommThreadConnectOptions {
  readonly rank: number;
  readonly size: number;
  /** Every rank's mesh address, in rank order (non-members' are not read and may be `""`). */
  readonly addresses: readonly string[];
  /**
   * The ranks the mesh joins, ascending, this rank among them (default every rank): after a
   * lost worker, the survivors connect among themselves on a fresh thread, keeping their ranks
   * and `size`; the communicator starts with these members, and over a strict subset `arena`
   * is not used (the lost ranks' shared slots would never be filled).
   */
  readonly members?: readonly number[];
  /** How long a receive waits for a silent peer (no bytes at all from it), in ms. */
  readonly timeoutMs?: number;
  /** Bytes per message of the segmented collectives. */
  readonly segmentBytes?: number;
  /** A declared network the sends follow in real time (bandwidth, latency, jitter). */
  readonly network?: NetworkNode | null;
  /** The plan seed, for the network's jitter. */
  readonly seed?: number;
  /** The run's secret (default: none, an unauthenticated mesh; see `tcp_transport.ts`). */
  readonly secret?: Uint8Array;
  /** The run id, 16 bytes. */
  readonly runId?: Uint8Array;
  /** The plan's SHA-256, 32 bytes. */
  readonly planHash?: Uint8Array;
  /** How long a connection may take to complete its handshake, in ms (default 5 000). */
  readonly handshakeTimeoutMs?: number;
  /**
   * Heartbeat period to idle peers, in ms (default: a second, or a quarter of a shorter
   * `timeoutMs`); 0 turns heartbeats off.
   */
  readonly heartbeatMs?: number;
  /** Largest frame payload accepted from a peer, in bytes (default 1 GiB). */
  readonly maxFramePayload?: number;
  /** Bounds on what a peer may leave queued. */
  readonly limits?: MailboxLimits;
  /** Shared memory of every rank of this process, for the all-reduces (thread workers). */
  readonly arena?: SharedArena;
  /** CA certificates to check peers' TLS certificates against (their listeners use TLS). */
  readonly tls?: TlsPem;
  /** Follow every mesh frame with a MAC (`frame_mac.ts`; default false). */
  readonly macFrames?: boolean;
}

/** What the training thread tells the communication thread. */
export type ToCommThread =
  | { readonly type: "listen"; readonly hostname: string; readonly tls?: TlsPem }
  | (
    & { readonly type: "connect" }
    & Omit<CommThreadConnectOptions, "network">
    // Posted only with a network, and then with its seed.
    & { readonly network?: NetworkNode }
  )
  | { readonly type: "call"; readonly id: number; readonly call: ThreadCall }
  | { readonly type: "close" };

/** An error as data. */
export interface ErrorData {
  readonly name: string;
  readonly message: string;
  /** For a {@linkcode PeerError}: the rank that failed and what happened. */
  readonly peer?: number;
  readonly detail?: string;
  /** For a {@linkcode WorkerNamedError}: the message begins with the worker it is about. */
  readonly workerNamed?: true;
}

/** What the communication thread answers. */
export type FromCommThread =
  | { readonly type: "listening"; readonly address: string }
  | { readonly type: "connected" }
  | { readonly type: "closed" }
  | {
    readonly type: "done";
    readonly id: number;
    /** The transport's byte counters after the call. */
    readonly stats: TrafficStats;
    /** How long the collective took in the communication thread. */
    readonly elapsedMs: number;
    /** Neighbour exchange: the vectors received, by rank; gathers: the codes, in rank order. */
    readonly received?: readonly (readonly [number, Float32Array])[];
    /** Neighbour exchange of bytes: the bytes received, by rank. */
    readonly receivedBytes?: readonly (readonly [number, Uint8Array])[];
    readonly gathered?: readonly Uint8Array[] | null;
  }
  | {
    readonly type: "failed";
    /** The call that failed; absent for `listen` and `connect`. */
    readonly id?: number;
    readonly error: ErrorData;
    readonly stats?: TrafficStats;
  };

/**
 * An error as data, for `postMessage`.
 *
 * @param error Anything thrown.
 * @returns Its class name, message and, for a peer failure, the peer and the detail.
 */
export function errorData(error: unknown): ErrorData {
  if (error instanceof PeerError) {
    return { name: error.name, message: error.message, peer: error.peer, detail: error.detail };
  }
  return {
    name: error instanceof Error ? error.name : "Error",
    message: messageOf(error),
    ...(error instanceof WorkerNamedError ? { workerNamed: true } : {}),
  };
}

/**
 * Rebuilds an error from its data, keeping the classes callers test for.
 *
 * @param data The error as data.
 * @returns A `PeerError`, `WorkerNamedError`, `RangeError`, `TypeError` or `Error` with the
 *   same message.
 */
export function errorFrom(data: ErrorData): Error {
  if (data.peer !== undefined && data.detail !== undefined) {
    return new PeerError(data.peer, data.detail);
  }
  if (data.workerNamed === true) return new WorkerNamedError(data.message);
  if (data.name === "RangeError") return new RangeError(data.message);
  if (data.name === "TypeError") return new TypeError(data.message);
  return new Error(data.message);
}
