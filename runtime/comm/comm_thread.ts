/**
 * A worker's communication thread (a Web Worker): it owns the worker's mesh listener, its TCP
 * sockets and its collectives, so collectives progress while the training thread is busy inside
 * a long TensorFlow.js kernel, as NCCL and Gloo keep a progress thread. The training thread
 * talks to it through `threaded_communicator.ts` (messages in `_thread_protocol.ts`).
 *
 * Calls are started in the order they arrive, synchronously in the message handler, so the
 * communicator's per-call tags follow the training thread's call order, as collectives require.
 * With a declared network, the thread's transport shapes every send (`runtime/network/links.ts`):
 * waiting for the link happens here, not in the training thread.
 *
 * Heartbeats go from here too: the thread keeps running while the model computes or evaluates,
 * so it tells every idle peer about once a second that this process is alive, and a peer's
 * timeout then means a dead or frozen process, never a long computation.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { createCommunicator, type InPlaceCommunicator } from "./communicator.ts";
import { SharedReducer } from "./shared_reduce.ts";
import { DEFAULT_PEER_TIMEOUT_MS } from "./_mailbox.ts";
import { connectTcpMesh, listenTcp } from "./tcp_transport.ts";
import { PeerError, type Transport } from "./types.ts";
import { LinkSchedule, shapesLinks } from "../network/links.ts";
import {
  errorData,
  type FromCommThread,
  type ThreadCall,
  type ToCommThread,
} from "./_thread_protocol.ts";

let listener: Deno.Listener | null = null;

/** The default heartbeat period: a second, or a quarter of a shorter peer timeout. */
function heartbeatPeriod(timeoutMs: number): number {
  return Math.min(1000, timeoutMs / 4);
}
let transport: Transport | null = null;
let reducer: SharedReducer | null = null;
let comm: InPlaceCommunicator | null = null;

/** Posts a message to the training thread. */
function post(message: FromCommThread, transfer: Transferable[] = []): void {
  self.postMessage(message, transfer);
}

/** Starts one collective now; answers when it settles. */
function run(id: number, call: ThreadCall): void {
  const active = comm;
  if (active === null) {
    post({ type: "failed", id, error: { name: "Error", message: "The mesh is not connected" } });
    return;
  }
  const start = performance.now();
  const done = (extra: {
    received?: [number, Float32Array][];
    receivedBytes?: [number, Uint8Array][];
    gathered?: Uint8Array[] | null;
  }) =>
    ({
      type: "done",
      id,
      stats: active.stats(),
      elapsedMs: performance.now() - start,
      ...extra,
    }) as const;
  let work: Promise<FromCommThread & { type: "done" }>;
  let transfer: (message: FromCommThread & { type: "done" }) => Transferable[] = () => [];
  switch (call.op) {
    case "allReduce": {
      const data = new Float32Array(call.buffer, 0, call.length);
      work =
        (call.mean
          ? active.allReduceMeanInPlace(data, call.phase)
          : active.allReduceSumInPlace(data, call.phase)).then(() => done({}));
      break;
    }
    case "broadcast": {
      const data = new Float32Array(call.buffer, 0, call.length);
      work = active.broadcast(data, call.root, call.phase).then((result) => {
        if (result !== data) data.set(result);
        return done({});
      });
      break;
    }
    case "neighborExchange": {
      const to = call.to.map((each) => ({
        rank: each.rank,
        data: new Float32Array(each.buffer, 0, each.length),
      }));
      work = active.neighborExchange(to, call.from, call.phase).then((received) =>
        done({ received: [...received] })
      );
      transfer = (message) => buffersOf((message.received ?? []).map(([, data]) => data));
      break;
    }
    case "neighborExchangeBytes":
      work = active.neighborExchangeBytes(call.to, call.from, call.phase).then((received) =>
        done({ receivedBytes: [...received] })
      );
      transfer = (message) => buffersOf((message.receivedBytes ?? []).map(([, data]) => data));
      break;
    case "allGather":
      work = active.allGather(call.data, call.phase).then((gathered) => done({ gathered }));
      transfer = (message) => buffersOf(message.gathered ?? []);
      break;
    case "gather":
      work = active.gather(call.data, call.root, call.phase).then((gathered) => done({ gathered }));
      transfer = (message) => buffersOf(message.gathered ?? []);
      break;
    case "barrier":
      // A barrier also waits for this rank's own messages still on the declared network, so
      // the byte counters it answers with include every byte sent before it.
      work = active.barrier()
        .then(() => abortable(transport)?.drain?.())
        .then(() => done({}));
      break;
    case "setMembers":
      // Synchronously, before any later call starts: calls are started in the order they arrive.
      try {
        active.setMembers(call.members);
        work = Promise.resolve(done({}));
      } catch (error) {
        work = Promise.reject(error);
      }
      break;
  }
  work.then(
    (message) => post(message, transfer(message)),
    (error) => {
      post({ type: "failed", id, error: errorData(error), stats: active.stats() });
      // A peer failed mid-collective: this rank's tags are out of step, so it stops talking at
      // once, which fails its other peers too, instead of leaving them waiting on a live but
      // silent rank (its heartbeats would keep them waiting).
      if (error instanceof PeerError) abortable(transport)?.abort?.(error);
    },
  );
}

/** The TCP transport's extras beyond {@linkcode Transport}. */
function abortable(
  current: Transport | null,
): (Transport & { drain?(): Promise<void>; abort?(error: Error): Promise<void> }) | null {
  return current;
}

/** The distinct buffers behind some views, for a transfer list (copies of shared ones). */
function buffersOf(views: readonly ArrayBufferView[]): Transferable[] {
  const buffers = new Set<ArrayBuffer>();
  for (const view of views) {
    if (view.buffer instanceof ArrayBuffer) buffers.add(view.buffer);
  }
  return [...buffers];
}

/** Closes whatever is open, then this thread. */
async function close(): Promise<void> {
  reducer?.close();
  try {
    await transport?.close();
  } catch { /* already closed */ }
  try {
    listener?.close();
  } catch { /* owned and closed by the transport */ }
  post({ type: "closed" });
  self.close();
}

/** The optional settings of a connect message, as `connectTcpMesh` options. */
function optional(message: ToCommThread & { type: "connect" }) {
  const timeoutMs = message.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
  const heartbeatMs = message.heartbeatMs ?? heartbeatPeriod(timeoutMs);
  const {
    secret,
    runId,
    planHash,
    handshakeTimeoutMs,
    maxFramePayload,
    limits,
    tls,
    macFrames,
    members,
  } = message;
  return {
    timeoutMs,
    ...(heartbeatMs > 0 && Number.isFinite(heartbeatMs) ? { heartbeatMs } : {}),
    ...(secret === undefined ? {} : { secret }),
    ...(runId === undefined ? {} : { runId }),
    ...(planHash === undefined ? {} : { planHash }),
    ...(handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs }),
    ...(maxFramePayload === undefined ? {} : { maxFramePayload }),
    ...(limits === undefined ? {} : { limits }),
    ...(tls === undefined ? {} : { tls }),
    ...(macFrames === true ? { macFrames } : {}),
    ...(members === undefined ? {} : { members }),
  };
}

self.onmessage = (event: MessageEvent<ToCommThread>) => {
  const message = event.data;
  switch (message.type) {
    case "listen":
      try {
        const opened = listenTcp({
          hostname: message.hostname,
          ...(message.tls === undefined ? {} : { tls: message.tls }),
        });
        listener = opened.listener;
        post({ type: "listening", address: opened.address });
      } catch (error) {
        post({ type: "failed", error: errorData(error) });
      }
      return;
    case "connect":
      if (listener === null) {
        post({ type: "failed", error: { name: "Error", message: "Nothing is listening yet" } });
        return;
      }
      connectTcpMesh({
        rank: message.rank,
        size: message.size,
        listener,
        addresses: message.addresses,
        ...optional(message),
        ...(message.network === undefined || !shapesLinks(message.network) ? {} : {
          shaper: new LinkSchedule(message.network, message.rank, message.seed ?? 0),
        }),
      }).then((connected) => {
        transport = connected;
        // Shared memory needs every rank of its group: over a strict subset of the ranks the
        // all-reduces take the members' ring (the communicator starts with the members).
        const narrowed = message.members !== undefined && message.members.length < message.size;
        reducer = message.arena === undefined || narrowed
          ? null
          : new SharedReducer(message.arena, message.rank - (message.arena.first ?? 0), {
            timeoutMs: message.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS,
          });
        comm = createCommunicator(connected, {
          ...(message.segmentBytes === undefined ? {} : { segmentBytes: message.segmentBytes }),
          ...(reducer === null ? {} : { sharedReducer: reducer }),
        });
        post({ type: "connected" });
      }).catch((error) => post({ type: "failed", error: errorData(error) }));
      return;
    case "call":
      run(message.id, message.call);
      return;
    case "close":
      close();
      return;
  }
};
