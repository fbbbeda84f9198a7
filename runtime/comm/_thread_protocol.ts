/**
 * The messages between a worker's training thread and its communication thread
 * (`comm_thread.ts`, `threaded_communicator.ts`). Vectors that collectives work on in place
 * travel in `SharedArrayBuffer`s both threads see; variable-sized results (neighbours' vectors,
 * gathered codes) come back as transferred buffers. Errors cross as plain data and are rebuilt
 * with their class, so a {@linkcode PeerError} stays a `PeerError`.
 *
 * @module
 */

import type { SharedArena } from "./shared_reduce.ts";
import type { NetworkNode } from "../../dsl/plan.ts";
import type { Phase } from "../../dsl/traffic.ts";
import type { MailboxLimits } from "./_mailbox.ts";
import type { TlsPem } from "./net.ts";
import { PeerError, type TrafficStats } from "./types.ts";

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
  | { readonly op: "allGather"; readonly data: Uint8Array; readonly phase: Phase }
  | {
    readonly op: "gather";
    readonly data: Uint8Array;
    readonly root: number;
    readonly phase: Phase;
  }
  | { readonly op: "barrier" };

/** What the training thread tells the communication thread. */
export type ToCommThread =
  | { readonly type: "listen"; readonly hostname: string; readonly tls?: TlsPem }
  | {
    readonly type: "connect";
    readonly rank: number;
    readonly size: number;
    readonly addresses: readonly string[];
    readonly timeoutMs?: number;
    readonly segmentBytes?: number;
    /** A declared network the sends follow in real time, and the seed of its jitter. */
    readonly network?: NetworkNode;
    readonly seed?: number;
    /** The run's secret, run id and plan hash, for the handshakes (see `tcp_transport.ts`). */
    readonly secret?: Uint8Array;
    readonly runId?: Uint8Array;
    readonly planHash?: Uint8Array;
    readonly handshakeTimeoutMs?: number;
    /** Heartbeat period; 0 turns heartbeats off. */
    readonly heartbeatMs?: number;
    readonly maxFramePayload?: number;
    readonly limits?: MailboxLimits;
    /** CA certificates for dialling peers over TLS. */
    readonly tls?: TlsPem;
    /** Shared memory of every rank of this process: all-reduces go through it. */
    readonly arena?: SharedArena;
  }
  | { readonly type: "call"; readonly id: number; readonly call: ThreadCall }
  | { readonly type: "close" };

/** An error as data. */
export interface ErrorData {
  readonly name: string;
  readonly message: string;
  /** For a {@linkcode PeerError}: the rank that failed and what happened. */
  readonly peer?: number;
  readonly detail?: string;
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
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

/**
 * Rebuilds an error from its data, keeping the classes callers test for.
 *
 * @param data The error as data.
 * @returns A `PeerError`, `RangeError`, `TypeError` or `Error` with the same message.
 */
export function errorFrom(data: ErrorData): Error {
  if (data.peer !== undefined && data.detail !== undefined) {
    return new PeerError(data.peer, data.detail);
  }
  if (data.name === "RangeError") return new RangeError(data.message);
  if (data.name === "TypeError") return new TypeError(data.message);
  return new Error(data.message);
}
