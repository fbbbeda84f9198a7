/**
 * A worker's whole life, shared by thread workers (Web Workers) and process workers
 * (`gossamer worker`): validate the plan it was given, find the run's secret, join the
 * coordinator (`join.ts`: retrying while it is not up yet, then the authenticated handshake,
 * which also compares the plans' hashes), pick the TensorFlow.js backend, load its data shard
 * and model, start its communication thread (which opens the mesh listener and will own the
 * sockets, so collectives progress while the model computes), register, join the TCP mesh,
 * train, and hand back its final model. The coordinator's word comes in on the control channel
 * (`control_channel.ts`) while all this runs; metrics go out in batches (`metrics_batcher.ts`).
 *
 * Any failure after joining is reported to the coordinator on the control connection with this
 * worker's rank and cause before the worker exits, so the run can stop with a message naming
 * it. A worker that lost a peer waits a moment for the coordinator's abort and, if one comes,
 * stops with the cause the coordinator decided (a signal, the worker that died) rather than the
 * symptom it saw. A failure before (a plan that does not validate, no secret, a coordinator
 * that cannot be reached or refuses this worker) is thrown: the launcher or the command line
 * reports it.
 *
 * Binding and advertising are separate: the mesh listener binds `host`, and peers are told to
 * dial `advertise`. Unless told otherwise, both are the local address of the control connection,
 * the address this host used to reach the coordinator: the one interface known to lead to the
 * rest of the run, whether the coordinator is on this host (loopback), across a cluster, or in
 * another network namespace. A worker bound to a wildcard (`0.0.0.0`, `::`) advertises that
 * address too, never the wildcard, which peers cannot dial.
 *
 * @module
 */

import type { SharedArena } from "../comm/shared_reduce.ts";
import { encodeState, type WorkerState } from "../worker_state.ts";
import { timeoutProblem } from "../timeouts.ts";
import { parsePlan, PlanError } from "../../dsl/validate.ts";
import { moduleIssues } from "../module_refs.ts";
import type { Plan } from "../../dsl/plan.ts";
import {
  adoptWebGpuProbe,
  type BackendRequest,
  selectBackend,
  type WebGpuProbe,
} from "../backend.ts";
import {
  findSecret,
  planHashBytes,
  readTlsFiles,
  runIdBytes,
  SECRET_ENV,
  SECRET_FILE_ENV,
  secretBytes,
} from "../auth.ts";
import { meshLimits } from "../comm/frame_limits.ts";
import type { TlsPem } from "../comm/net.ts";
import { formatAddress, parseAddress } from "../comm/tcp_address.ts";
import { type CommThread, startCommThread } from "../comm/threaded_communicator.ts";
import { type ElasticCommunicator, elasticCommunicator } from "./elastic_communicator.ts";
import { elasticRecovery } from "./elastic_recovery.ts";
import { DEFAULT_PEER_TIMEOUT_MS } from "../comm/_mailbox.ts";
import { PeerError } from "../comm/types.ts";
import { EmptyShardError } from "../data/batches.ts";
import { loadWorkerData } from "../data/worker_data.ts";
import { lazySpreadData } from "../data/spread.ts";
import { messageOf, WorkerNamedError } from "../errors.ts";
import { tensorMemory } from "../tensor_memory.ts";
import { createModel } from "../models/create_model.ts";
import { settlesWithin } from "../_timeout.ts";
import { ControlChannel } from "./control_channel.ts";
import { joinCoordinator } from "./join.ts";
import { localHostOf, meshHosts } from "./mesh_hosts.ts";
import { MetricsBatcher } from "./metrics_batcher.ts";
import { handOverState, runWorkerLoop } from "./worker_loop.ts";
import { joinerBuffers } from "../algorithms/chain.ts";
import type { MetricsLine } from "../metrics.ts";

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
  /**
   * Interface this worker's mesh listener binds to (default: the local address of its
   * connection to the coordinator).
   */
  readonly host?: string;
  /**
   * The host name or address peers dial to reach this worker's mesh listener (default: `host`,
   * or, when `host` is not given or is a wildcard such as `0.0.0.0`, the local address of the
   * connection to the coordinator). The port is the listener's.
   */
  readonly advertise?: string;
  /** Accept an `http:`/`https:` custom model module (default: local files only). */
  readonly allowRemoteModules?: boolean;
  /** How long to wait for a silent peer (no bytes at all from it) before failing (ms). */
  readonly peerTimeoutMs?: number;
  /**
   * The run's secret. Local launches pass it here (never on a command line); default: the
   * file `secretFile`, else the environment (`GOSSAMER_SECRET`, `GOSSAMER_SECRET_FILE`).
   */
  readonly secret?: string;
  /** A file holding the run's secret. */
  readonly secretFile?: string;
  /** The run id, 32 hex digits (local launches); default: learnt from the coordinator. */
  readonly runId?: string;
  /** How long a connection may take to complete its handshake, ms (default 5 000). */
  readonly handshakeTimeoutMs?: number;
  /** How long to keep retrying to reach the coordinator, ms (default 60 000). */
  readonly rendezvousTimeoutMs?: number;
  /**
   * TLS certificate files (PEM paths), for the mesh and the control channel alike (default:
   * plain TCP): this worker's certificate and key (its mesh listener presents them) and the CA
   * that the coordinator's and the peers' certificates are checked against.
   */
  readonly tls?: { readonly cert?: string; readonly key?: string; readonly ca?: string };
  /**
   * Shared memory of every worker of this process (thread workers of one run): the all-reduces
   * go through it instead of the sockets. Only `postMessage` can hand it over.
   */
  readonly sharedArena?: SharedArena;
  /**
   * What the process's main thread found when it probed WebGPU (thread workers): the worker
   * adopts it instead of requesting an adapter itself (see `adoptWebGpuProbe`).
   */
  readonly webgpu?: WebGpuProbe;
}

/**
 * What a worker reports to the coordinator, changed just before it is sent: its metrics lines
 * and its final model. A real worker sends both unchanged; a test passes its own to play a
 * member that holds the secret and lies (the coordinator must not trust it: `check_results.ts`).
 */
export interface WorkerReports {
  /** The metrics line to send instead of `line`, or `null` to send none. */
  readonly metrics?: (line: MetricsLine) => MetricsLine | null;
  /** The final model to send instead of `final`. */
  readonly final?: (final: Float32Array) => Float32Array;
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

/**
 * Runs one worker to completion.
 *
 * @param launch Plan, rank, world size, rendezvous address and backend request.
 * @param reports What to change in its reports before they are sent (tests only; default none).
 * @throws {WorkerError} The first failure, after reporting it to the coordinator.
 */
export async function runWorker(launch: WorkerLaunch, reports: WorkerReports = {}): Promise<void> {
  const { rank, world } = launch;
  const timeouts = timeoutProblem(launch, [
    "peerTimeoutMs",
    "handshakeTimeoutMs",
    "rendezvousTimeoutMs",
  ]);
  if (timeouts !== null) throw new WorkerError(rank, `Worker ${rank}: ${timeouts}`);
  const ready = await prepare(launch).catch((error) => {
    throw error instanceof WorkerError
      ? error
      : new WorkerError(rank, `Worker ${rank}: ${messageOf(error)}`);
  });
  const joined = await joinCoordinator({
    rank,
    world,
    rendezvous: launch.rendezvous,
    secret: ready.secret,
    runId: ready.runId,
    planHash: ready.planHash,
    tls: ready.tls,
    ...(launch.handshakeTimeoutMs === undefined
      ? {}
      : { handshakeTimeoutMs: launch.handshakeTimeoutMs }),
    ...(launch.rendezvousTimeoutMs === undefined
      ? {}
      : { rendezvousTimeoutMs: launch.rendezvousTimeoutMs }),
  }).catch((error: Error) => {
    throw new WorkerError(rank, error.message);
  });
  const mesh = meshHosts(launch, localHostOf(joined.conn));
  // The communication thread owns this worker's sockets and runs its collectives. It starts
  // now, so its start-up overlaps loading TensorFlow.js, the data and the model.
  const threadOptions = {
    hostname: mesh.bind,
    ...(ready.tls?.cert === undefined
      ? {}
      : { tls: { cert: ready.tls.cert, key: ready.tls.key! } }),
  };
  const threadStart = mesh.problem !== null
    ? Promise.reject(new WorkerNamedError(mesh.problem))
    : startCommThread(threadOptions);
  threadStart.catch(() => {/* reported where it is awaited */});
  // Once the body has the thread, the coordinator's abort closes it, ending its collectives.
  let thread: CommThread | null = null;
  const control = new ControlChannel(joined, rank, () => thread?.close());
  // Elastic runs: the coordinator's pause ends the thread's collectives; the worker then starts
  // the next epoch's thread (elasticRecovery).
  control.onPause = () => void thread?.close();
  const metrics = new MetricsBatcher((lines) =>
    control.send({ type: "metrics", lines }).catch(() => {})
  );
  try {
    await train(launch, ready, {
      control,
      metrics,
      runId: joined.runId,
      advertise: mesh.advertise,
      thread: async () => thread = await threadStart,
      async nextThread() {
        await thread?.close();
        return thread = await startCommThread(threadOptions);
      },
      reports,
    });
  } catch (error) {
    throw await reportFailure(rank, error, control, metrics);
  } finally {
    const started = thread ?? await threadStart.catch(() => null);
    await started?.close().catch(() => {});
    control.close();
    await control.ended;
  }
}

/**
 * Tells the coordinator why this worker fails, after the metrics lines it holds, and says why
 * it stops.
 *
 * A lost peer is usually a symptom: the run is stopping (a signal to the coordinator, another
 * worker's failure) and the peer heard first. The coordinator's abort, a moment behind, names
 * the cause, so a worker that lost a peer waits briefly for it before saying why it stops.
 *
 * @returns The error to throw.
 */
async function reportFailure(
  rank: number,
  error: unknown,
  control: ControlChannel,
  metrics: MetricsBatcher,
): Promise<WorkerError> {
  const message = failureMessage(rank, error, control.stoppedBecause);
  metrics.flush();
  const peer = error instanceof PeerError ? { peer: error.peer } : {};
  await control.send({ type: "error", rank, message, ...peer }).catch(() => {});
  if (control.stoppedBecause === null && error instanceof PeerError) {
    await settlesWithin(control.ended, ABORT_GRACE_MS);
    const stopped = control.stoppedBecause;
    if (stopped !== null) return new WorkerError(rank, failureMessage(rank, error, stopped));
  }
  return new WorkerError(rank, message);
}

/**
 * A collective awaited this long, ms, is reported to the coordinator as waiting: well under its
 * silence timeout, so that when the run falls silent the coordinator can tell the workers that
 * wait on their peers from the one that stalled.
 */
const WAIT_NOTICE_MS = 1000;

/**
 * How long a worker that lost a peer waits for the coordinator's abort: longer than the
 * coordinator takes to weigh peer failures (750 ms) before it names the root cause.
 */
const ABORT_GRACE_MS = 2000;

/** What the run body works with besides the launch and what was prepared. */
interface TrainContext {
  readonly control: ControlChannel;
  readonly metrics: MetricsBatcher;
  /** The run id, as the coordinator confirmed it. */
  readonly runId: Uint8Array;
  /** The host name or address peers dial to reach this worker's mesh listener. */
  readonly advertise: string;
  /** The communication thread, once it started (it started with the worker). */
  readonly thread: () => Promise<CommThread>;
  /** Elastic runs: closes the communication thread and starts the next epoch's. */
  readonly nextThread: () => Promise<CommThread>;
  /** What to change in the reports before they are sent. */
  readonly reports: WorkerReports;
}

/**
 * The run body: picks the backend and loads the data and the model while the communication
 * thread starts, registers with the coordinator, joins the mesh on its start message, trains,
 * and hands back the final model. It throws whatever fails; {@linkcode runWorker} reports it.
 */
async function train(launch: WorkerLaunch, ready: Prepared, context: TrainContext): Promise<void> {
  const { rank, world } = launch;
  const { plan, secret, tls, planHash } = ready;
  const { control, metrics } = context;
  if (launch.webgpu !== undefined) adoptWebGpuProbe(launch.webgpu);
  const backend = await selectBackend(launch.backend);
  const tf = await import("../../deps/tfjs.ts");
  const data = await loadWorkerData(plan, rank);
  const model = await createModel(plan);
  try {
    const thread = await context.thread();
    await control.send({
      type: "hello",
      rank,
      address: formatAddress(context.advertise, parseAddress(thread.address).port),
      backend: backend.backend,
      backendReason: backend.reason,
      tfjsVersion: tf.version_core,
      sharedGroup: launch.sharedArena?.size ?? 1,
    });
    const started = await control.started;
    const { addresses, checkpointEvery, macMesh, join } = started;
    // A worker that joins a run in progress, or resumes one that had lost workers, meshes with
    // the members only, over TCP.
    const members = join?.members ?? started.members;
    let resume = started.resume;
    const connectOptions = {
      rank,
      size: world,
      network: plan.network,
      seed: plan.seed,
      secret,
      runId: context.runId,
      planHash,
      ...meshLimits(model.parameterCount),
      ...(launch.peerTimeoutMs === undefined ? {} : { timeoutMs: launch.peerTimeoutMs }),
      ...(launch.handshakeTimeoutMs === undefined
        ? {}
        : { handshakeTimeoutMs: launch.handshakeTimeoutMs }),
      ...(tls?.caCerts === undefined ? {} : { tls: { caCerts: tls.caCerts } }),
      ...(macMesh ? { macFrames: true } : {}),
    };
    const first = await thread.connect({
      ...connectOptions,
      addresses,
      ...(members === undefined ? {} : { members }),
      ...(launch.sharedArena === undefined || members !== undefined
        ? {}
        : { arena: launch.sharedArena }),
    });
    if (join !== undefined) {
      // Its state is a live worker's at the step the members go on from (never from disk).
      const state = await handOverState(first, { joined: [rank], donor: join.donor }, () => {
        throw new Error("a joining worker has no state to give");
      });
      // What the joiner starts from is the donor's state, or made from it (cada's worker slot).
      const buffers = joinerBuffers(
        plan,
        rank,
        new Map(state!.buffers.map((b) => [b.name, b.data])),
      );
      resume = {
        buffers: [...buffers].map(([name, data]) => ({ name, data })),
        virtualMs: state!.virtualMs,
        step: join.rewindTo,
      };
    }
    const comm = plan.elastic === null ? first : elasticCommunicator(first);
    // reshard "spread": the live workers are the communicator's members, and the shard of a
    // worker first seen lost is loaded once the survivors have settled where they go on from.
    const spread = plan.elastic?.reshard === "spread"
      ? lazySpreadData(
        rank,
        world,
        data,
        (worker) => loadWorkerData(plan, worker),
        () => comm.members,
      )
      : null;
    await spread?.prepare();
    const recovery = plan.elastic === null ? undefined : elasticRecovery({
      rank,
      plan,
      control,
      metrics,
      comm: comm as ElasticCommunicator,
      // Peers notice a cut link within their timeout, the coordinator a moment later.
      cutOffMs: 3 * (launch.peerTimeoutMs ?? DEFAULT_PEER_TIMEOUT_MS),
      // Each epoch's thread forms a mesh over the members only, over TCP (no shared arena).
      async openEpoch() {
        const next = await context.nextThread();
        return {
          address: formatAddress(context.advertise, parseAddress(next.address).port),
          connect: (members) =>
            next.connect({
              ...connectOptions,
              addresses: members.addresses,
              members: members.members,
            }),
        };
      },
    }, join?.epoch);
    const elastic = recovery === undefined || spread === null ? recovery : {
      ...recovery,
      async recover(...args: Parameters<typeof recovery.recover>) {
        const resumption = await recovery.recover(...args);
        await spread.prepare();
        return resumption;
      },
    };
    const trained = await runWorkerLoop({
      plan,
      comm,
      ...(elastic === undefined ? {} : { elastic }),
      model,
      data: spread ?? data,
      tensorCount: () => tf.memory().numTensors,
      tensorMemory,
      ...(resume === null ? {} : { resume }),
      ...(checkpointEvery === null ? {} : {
        checkpoint: {
          every: checkpointEvery,
          save(step: number, state: WorkerState) {
            // Metrics first: the checkpoint then never gets ahead of the lines it follows.
            metrics.flush();
            const { header, body } = encodeState(state);
            return control.send({ type: "checkpoint", rank, step, state: header }, body);
          },
        },
      }),
      emit: (line) => {
        const sent = context.reports.metrics === undefined ? line : context.reports.metrics(line);
        if (sent !== null) metrics.add(sent);
      },
      longWait: {
        afterMs: WAIT_NOTICE_MS,
        change(waiting) {
          // The lines first: the coordinator then knows the last step before the wait.
          metrics.flush();
          control.send({ type: "waiting", rank, waiting }).catch(() => {});
        },
      },
    });
    const final = context.reports.final?.(trained) ?? trained;
    metrics.flush();
    await control.send(
      { type: "done", rank, parameters: final.length, tensors: model.tensors },
      new Uint8Array(final.buffer, final.byteOffset, final.byteLength),
    );
  } finally {
    model.dispose();
  }
}

/**
 * What a failing worker reports: the coordinator's reason when it stopped this worker, else an
 * error that names its worker as it is, else any other after "Worker <rank>: ".
 */
function failureMessage(rank: number, error: unknown, stoppedBecause: string | null): string {
  if (stoppedBecause !== null) return `Worker ${rank} stopped: ${stoppedBecause}`;
  return namesItsWorker(error) ? error.message : `Worker ${rank}: ${messageOf(error)}`;
}

/** Whether an error's message already begins with the worker it is about, by its class. */
function namesItsWorker(error: unknown): error is Error {
  return error instanceof WorkerNamedError || error instanceof PeerError ||
    error instanceof EmptyShardError;
}

/** What a worker settles before it connects anywhere. */
interface Prepared {
  readonly plan: Plan;
  /** The run secret's key bytes. */
  readonly secret: Uint8Array;
  readonly tls: TlsPem | null;
  readonly planHash: Uint8Array;
  /** The run id, when the launcher gave it. */
  readonly runId: Uint8Array | null;
}

/**
 * Validates the plan, finds the secret, reads the TLS files and checks the mesh address, all
 * before connecting: a worker that cannot prove it belongs to the run says why at once. Its own
 * refusals are {@linkcode WorkerError}s; anything else is the plan's, the secret's or a file's.
 */
async function prepare(launch: WorkerLaunch): Promise<Prepared> {
  const { rank, world } = launch;
  const plan = parsePlan(launch.plan, `the plan received by worker ${rank}`);
  // The coordinator checked the module too; a worker started some other way checks it here.
  const refused = moduleIssues(plan, launch);
  if (refused.length > 0) throw new PlanError(refused, `the plan received by worker ${rank}`);
  if (plan.workers !== world) {
    throw new WorkerError(
      rank,
      `Worker ${rank}: the plan has ${plan.workers} workers but the run has ${world}`,
    );
  }
  const found = await findSecret({
    ...(launch.secret === undefined ? {} : { secret: launch.secret }),
    ...(launch.secretFile === undefined ? {} : { secretFile: launch.secretFile }),
  });
  if (found === null) {
    throw new WorkerError(
      rank,
      `Worker ${rank} has no run secret: set ${SECRET_ENV}, or ${SECRET_FILE_ENV} (or --secret-file) to the file the coordinator wrote (<run folder>/secret)`,
    );
  }
  const [tls, planHash] = await Promise.all([readTlsFiles(launch.tls), planHashBytes(plan)]);
  if (tls !== null && tls.cert === undefined) {
    throw new WorkerError(
      rank,
      `Worker ${rank}: TLS needs this worker's certificate and key for its mesh listener`,
    );
  }
  return {
    plan,
    secret: secretBytes(found.secret, found.source),
    tls,
    planHash,
    runId: launch.runId === undefined ? null : runIdBytes(launch.runId),
  };
}
