/**
 * A worker's whole life, shared by thread workers (Web Workers) and process workers
 * (`gossamer worker`): validate the plan it was given, pick the TensorFlow.js backend, load its
 * data shard and model, start its communication thread (which opens the mesh listener and will
 * own the sockets, so collectives progress while the model computes), register with the
 * coordinator, join the TCP mesh, train, and hand back its final model.
 *
 * Any failure is reported to the coordinator on the control connection with this worker's rank
 * and cause before the worker exits, so the run can stop with a message naming it.
 *
 * @module
 */

import { decodeState, encodeState, type WorkerState } from "../worker_state.ts";
import { parsePlan } from "../../dsl/validate.ts";
import { type BackendRequest, selectBackend } from "../backend.ts";
import { parseAddress } from "../comm/tcp_address.ts";
import { type CommThread, startCommThread } from "../comm/threaded_communicator.ts";
import { PeerError } from "../comm/types.ts";
import {
  ControlWriter,
  type CoordinatorMessage,
  readControl,
  type WorkerMessage,
} from "../control.ts";
import { loadWorkerData } from "../data/worker_data.ts";
import type { MetricsLine } from "../metrics.ts";
import { createModel } from "../models/create_model.ts";
import { runWorkerLoop } from "./worker_loop.ts";

/** How a worker is started. */
export interface WorkerLaunch {
  /** The plan, as received (validated again here). */
  readonly plan: unknown;
  /** This worker's rank, `0..world−1`. */
  readonly rank: number;
  /** Number of workers in the run. */
  readonly world: number;
  /** The coordinator's `host:port`. */
  readonly rendezvous: string;
  /** TensorFlow.js backend to request; `auto` picks the best one available. */
  readonly backend: BackendRequest;
  /** Interface this worker's mesh listener binds to (default 127.0.0.1). */
  readonly host?: string;
  /** How long to wait for a silent peer before failing (ms). */
  readonly peerTimeoutMs?: number;
}

/** A worker failed; the message names the worker and the cause. */
export class WorkerError extends Error {
  /**
   * Builds the error for one worker's failure.
   *
   * @param rank The worker.
   * @param message What happened, starting with "Worker <rank>".
   */
  constructor(readonly rank: number, message: string) {
    super(message);
    this.name = "WorkerError";
  }
}

/** Metrics lines are sent in batches of at most this many, or sooner after this many ms. */
const METRICS_BATCH = 64;
const METRICS_FLUSH_MS = 200;

/** What the coordinator's start message tells a worker. */
interface Start {
  readonly addresses: readonly string[];
  readonly checkpointEvery: number | null;
  readonly resume: (WorkerState & { readonly step: number }) | null;
}

/**
 * Runs one worker to completion.
 *
 * @param launch Plan, rank, world size, rendezvous address and backend request.
 * @throws {WorkerError} The first failure, after reporting it to the coordinator.
 */
export async function runWorker(launch: WorkerLaunch): Promise<void> {
  const { rank, world } = launch;
  let control: Deno.Conn;
  try {
    control = await Deno.connect(parseAddress(launch.rendezvous));
  } catch (error) {
    throw new Error(
      `Worker ${rank} cannot reach the coordinator at ${launch.rendezvous}: ${
        (error as Error).message
      }`,
    );
  }
  const writer = new ControlWriter(control);
  const send = (message: WorkerMessage, body?: Uint8Array) => writer.send(message, body);
  // The communication thread owns this worker's sockets and runs its collectives. It starts
  // now, so its start-up overlaps loading TensorFlow.js, the data and the model.
  const threadStart = startCommThread({ hostname: launch.host ?? "127.0.0.1" });
  threadStart.catch(() => {/* reported where it is awaited */});
  let thread = null as CommThread | null;
  let aborted: string | null = null;
  // Metrics go to the coordinator in batches; a failing worker flushes what it has first.
  let pending: MetricsLine[] = [];
  let lastFlush = performance.now();
  const flush = () => {
    if (pending.length === 0) return;
    send({ type: "metrics", lines: pending }).catch(() => {});
    pending = [];
    lastFlush = performance.now();
  };

  // The coordinator's messages: the start (mesh addresses, checkpoint period, the state to
  // resume from) once everyone registered, or an abort.
  let resolveStart!: (start: Start) => void;
  let rejectStart!: (error: Error) => void;
  const started = new Promise<Start>((resolve, reject) => {
    resolveStart = resolve;
    rejectStart = reject;
  });
  // An abort can come before anything awaits `started` (while data loads): not unhandled.
  started.catch(() => {});
  const listening = (async () => {
    for await (const { header, body } of readControl<CoordinatorMessage>(control)) {
      if (header.type === "start") {
        resolveStart({
          addresses: header.addresses,
          checkpointEvery: header.checkpointEvery,
          resume: header.resume === null
            ? null
            : { step: header.resume.step, ...decodeState(header.resume.state, body) },
        });
      }
      if (header.type === "abort") {
        aborted = header.reason;
        break;
      }
    }
    aborted ??= "the coordinator closed the connection";
    rejectStart(new Error(`Worker ${rank} stopped: ${aborted}`));
    await thread?.close();
  })().catch(() => {});

  try {
    const plan = parsePlan(launch.plan, `the plan received by worker ${rank}`);
    if (plan.workers !== world) {
      throw new Error(
        `Worker ${rank}: the plan has ${plan.workers} workers but the run has ${world}`,
      );
    }
    const backend = await selectBackend(launch.backend);
    const tf = await import("@tensorflow/tfjs");
    const data = await loadWorkerData(plan, rank);
    const model = await createModel(plan);
    try {
      thread = await threadStart;
      await send({
        type: "hello",
        rank,
        address: thread.address,
        backend: backend.backend,
        backendReason: backend.reason,
        tfjsVersion: tf.version_core,
      });
      const { addresses, checkpointEvery, resume } = await started;
      const comm = await thread.connect({
        rank,
        size: world,
        addresses,
        network: plan.network,
        seed: plan.seed,
        ...(launch.peerTimeoutMs === undefined ? {} : { timeoutMs: launch.peerTimeoutMs }),
      });
      const final = await runWorkerLoop({
        plan,
        comm,
        model,
        data,
        tensorCount: () => tf.memory().numTensors,
        ...(resume === null ? {} : { resume }),
        ...(checkpointEvery === null ? {} : {
          checkpoint: {
            every: checkpointEvery,
            save(step: number, state: WorkerState) {
              // Metrics first: the checkpoint then never gets ahead of the lines it follows.
              flush();
              const { header, body } = encodeState(state);
              return send({ type: "checkpoint", rank, step, state: header }, body);
            },
          },
        }),
        emit(line) {
          pending.push(line);
          if (pending.length >= METRICS_BATCH || performance.now() - lastFlush > METRICS_FLUSH_MS) {
            flush();
          }
        },
      });
      flush();
      await send(
        { type: "done", rank, parameters: final.length },
        new Uint8Array(final.buffer, final.byteOffset, final.byteLength),
      );
    } finally {
      model.dispose();
    }
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    const message = aborted !== null
      ? `Worker ${rank} stopped: ${aborted}`
      : /^Worker \d+/.test(cause)
      ? cause
      : `Worker ${rank}: ${cause}`;
    flush();
    const peer = error instanceof PeerError ? { peer: error.peer } : {};
    await send({ type: "error", rank, message, ...peer }).catch(() => {});
    throw new WorkerError(rank, message);
  } finally {
    const started = thread ?? await threadStart.catch(() => null);
    await started?.close().catch(() => {});
    try {
      control.close();
    } catch { /* already closed */ }
    await listening;
  }
}
