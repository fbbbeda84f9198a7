/**
 * The types a run is described by, shared by the coordinator, the command line and library
 * users: how to run a plan ({@linkcode RunOptions}), what a run leaves (`summary.json` as
 * {@linkcode RunSummary}, {@linkcode RunResult}) and how it fails ({@linkcode RunError}).
 *
 * @module
 */

import { type PhaseBytes, totalBytes } from "../dsl/traffic.ts";
import type { BackendRequest } from "./backend.ts";
import type { WorkerState } from "./worker_state.ts";
import type { TensorLayout } from "./models/types.ts";
import type { TextSample } from "./models/sample_text.ts";

/**
 * A snapshot of a run, given to `onProgress` once for each step of each worker: when worker
 * `worker`'s metrics for its step `workerStep − 1` arrive. A step is never reported twice for a
 * worker (a step an elastic run redoes after a loss, or a batch of metrics holding evaluations,
 * adds no call), so a run of `n` workers and `s` steps makes `n × s` calls, fewer when workers
 * leave.
 */
export interface Progress {
  /** The worker whose step this call reports. */
  readonly worker: number;
  /** The steps that worker has done, this one included. */
  readonly workerStep: number;
  /**
   * That worker's simulated time at the end of the step, in ms: the virtual clock's (compute
   * plus the declared network's modelled transfers), or `null` on the real clock.
   */
  readonly simulatedMs: number | null;
  /** Steps completed by every worker. */
  readonly step: number;
  /** Steps in the plan, per worker. */
  readonly steps: number;
  /** Mean training loss over workers at the latest complete step. */
  readonly loss: number | null;
  /** Latest test accuracy of the averaged model. */
  readonly accuracy: number | null;
  /** Mean bytes sent per worker so far (all phases). */
  readonly bytesPerWorker: number;
  /** Time since the run started, in milliseconds (worker startup included). */
  readonly elapsedMs: number;
  /** Estimated time left, from the pace so far. */
  readonly etaMs: number | null;
}

/** How to run a plan. */
export interface RunOptions {
  /** Run folder (default: a new folder under `runs/`). */
  readonly out?: string;
  /** `tcp` (default): workers connected by TCP; `memory`: every rank in this thread. */
  readonly transport?: "tcp" | "memory";
  /**
   * `real` (default): time is wall-clock time, and a declared network is applied by the TCP
   * transport. `virtual`: nothing sleeps; every worker's simulated clock advances by its compute
   * time and by the modelled transfer time of its messages (memory transport only).
   */
  readonly clock?: "real" | "virtual";
  /** TensorFlow.js backend request (default `auto`). */
  readonly backend?: BackendRequest;
  /** TCP only: `threads` (default) Web Workers, `processes` local subprocesses, `none` external. */
  readonly launch?: "threads" | "processes" | "none";
  /** TCP only: coordinator address (default `127.0.0.1:0`, any free port). */
  readonly rendezvous?: string;
  /** Called with the rendezvous address once the coordinator listens (for external workers). */
  readonly onListening?: (address: string) => void;
  /** Called once for each step of each worker, as its metrics arrive ({@linkcode Progress}). */
  readonly onProgress?: (progress: Progress) => void;
  /** Fail when no worker has sent anything for this long (default 60 s). */
  readonly silenceTimeoutMs?: number;
  /** Workers fail when a peer is silent this long (default: the transport's). */
  readonly peerTimeoutMs?: number;
  /**
   * Aborting it stops the run (e.g. on Ctrl-C); the summary says `stopped` and records the
   * reason.
   */
  readonly signal?: AbortSignal;
  /**
   * Aborting it fails the run with its reason, for a failure found outside the run (rank 0's own
   * worker under a launcher); the summary says `failed`, as for a failure inside it.
   */
  readonly failSignal?: AbortSignal;
  /**
   * Write a checkpoint after every this many steps, and after the last, into
   * `<out>/checkpoints/`: everything needed to continue the run bit for bit.
   */
  readonly checkpointEvery?: number;
  /** How many checkpoints to keep, the newest (default 3). */
  readonly keepCheckpoints?: number;
  /**
   * Run even when the plan's estimated memory (`memory_estimate.ts`) exceeds what this machine
   * has available. Only workers started here count: with `launch: "none"` none are.
   */
  readonly ignoreMemory?: boolean;
  /**
   * Let a custom model's module be an `http:`/`https:` URL (default false: local files only,
   * and `data:` and other schemes never; runtime/module_refs.ts). The module runs in every
   * worker with the workers' permissions: allow it only for addresses you trust.
   */
  readonly allowRemoteModules?: boolean;
  /**
   * Start thread workers with only the permissions they need (read, the run's network; no
   * write, run, env, ffi or sys: runtime/worker/permissions.ts), as process workers always are.
   * Deno accepts this only with `--unstable-worker-options` (or `"worker-options"` in the
   * deno.json `unstable` list, as gossamer's has) and exits otherwise, so it is off by default;
   * the command line turns it on.
   */
  readonly limitThreadPermissions?: boolean;
  /**
   * The run's secret, which every connection proves it knows (HMAC challenge–response); default:
   * a fresh one per run for workers started here, or `GOSSAMER_SECRET` / `GOSSAMER_SECRET_FILE`
   * with `launch: "none"` (a generated one is then written to `<out>/secret`, removed when the
   * run ends).
   */
  readonly secret?: string;
  /** A file holding the run's secret. */
  readonly secretFile?: string;
  /** How long a connection may take to complete its handshake, ms (default 5 000). */
  readonly handshakeTimeoutMs?: number;
  /**
   * Thread workers (`launch: "threads"`) all-reduce through this process's shared memory instead
   * of their sockets (default true): the same sums, bit for bit, and the ring's bytes counted.
   */
  readonly sharedMemory?: boolean;
  /**
   * Worker processes (`launch: "processes"`) each run this many consecutive workers as threads
   * that share memory (default 1), so their all-reduces are hierarchical, as with
   * `gossamer worker --local-workers`: one host playing several.
   */
  readonly localWorkers?: number;
  /** TLS for the control channel and the mesh: PEM files of the certificate, key and CA. */
  readonly tls?: { readonly cert?: string; readonly key?: string; readonly ca?: string };
  /**
   * Authenticate every mesh frame with a MAC (`comm/frame_mac.ts`), as every control frame
   * always is (default false: 16 bytes per frame and an HMAC over every byte sent and received;
   * see docs/security.md). The coordinator tells the workers in its start message.
   */
  readonly macMesh?: boolean;
  /**
   * Continue a run from a checkpoint instead of starting it: the run folder it was written in,
   * the step after which it was written, and every worker's state. `out` may be that folder
   * (its metrics after the step are replaced) or a new one.
   */
  readonly resume?: ResumePoint;
}

/** Where a resumed run continues from. */
export interface ResumePoint {
  /** The run folder of the checkpoint. */
  readonly folder: string;
  /** The steps done when the checkpoint was taken: the run continues with this step index. */
  readonly step: number;
  /** Each worker's state, by rank (no buffers for a worker an elastic TCP run lost). */
  readonly workers: readonly WorkerState[];
  /**
   * Elastic runs: the workers live when the checkpoint was taken, ascending. The others stay
   * gone: a declared leaver hands back the state it left with, a worker lost over TCP nothing.
   * Absent: every worker.
   */
  readonly members?: readonly number[];
  /** Elastic TCP runs: the workers lost before the checkpoint, as `params.json` lists them. */
  readonly lost?: readonly LostWorkerRecord[];
}

/** A worker an elastic TCP run lost, as a checkpoint records it. */
export interface LostWorkerRecord {
  /** Its rank. */
  readonly worker: number;
  /** The steps it did with the others. */
  readonly steps: number;
  /** Why it was lost, in words. */
  readonly reason: string;
}

/** Bytes one worker sent and received, per phase. */
export interface WorkerBytes {
  /** The worker's rank. */
  readonly worker: number;
  /** Bytes the worker wrote, per phase, frame headers included. */
  readonly sent: PhaseBytes;
  /** Bytes the worker read, per phase, frame headers included. */
  readonly received: PhaseBytes;
}

/**
 * Uploads of an algorithm that decides per step whether a worker uploads (`cada`), against
 * distributed Adam, where every worker uploads every step.
 */
export interface UploadSummary {
  /** Uploads each worker sent, in rank order. */
  readonly perWorker: readonly number[];
  /** What distributed Adam would have sent: workers × steps run. */
  readonly possible: number;
  /** The share of possible uploads skipped, in `[0, 1]`. */
  readonly skipRate: number;
  /** Communication rounds saved against distributed Adam: possible − sent uploads. */
  readonly roundsSaved: number;
  /**
   * How many (worker, step) pairs saw each staleness: the age in steps of the worker's gradient
   * in the server's sum after the step (0 when it uploaded), keyed by age.
   */
  readonly staleness: Readonly<Record<string, number>>;
}

/** `summary.json`. */
export interface RunSummary {
  /**
   * `"completed"`; `"stopped"` when the run was interrupted through its `signal` (Ctrl-C,
   * SIGTERM, SIGHUP from the command line), with the reason in `error`; else `"failed"`, with
   * the reason in `error`.
   */
  readonly status: "completed" | "failed" | "stopped";
  /** Why the run failed; `null` when it completed. */
  readonly error: string | null;
  /** Inner steps of the plan. */
  readonly steps: number;
  /** Number of workers. */
  readonly workers: number;
  /** The base, compressor and outer kinds joined by `" + "`, e.g. `"localSgd + topK"`. */
  readonly algorithm: string;
  /**
   * The last evaluation of the averaged model; for language data also its bits per token
   * (`testLoss / ln 2`) and perplexity (`exp(testLoss)`).
   */
  readonly final: {
    step: number;
    testLoss: number;
    testAccuracy: number | null;
    bitsPerToken?: number;
    perplexity?: number;
  } | null;
  /** Wall time of the run on the coordinator, in milliseconds (worker startup included). */
  readonly wallTimeMs: number;
  /**
   * Language models: text the final averaged model generated from the opening of the validation
   * text (also in `sample.txt`).
   */
  readonly sample?: TextSample;
  /** Bytes each worker sent and received, per phase, in rank order. */
  readonly bytes: readonly WorkerBytes[];
  /** TensorFlow.js backend the workers used; `null` when no worker reported one. */
  readonly backend: string | null;
  /** Why that backend was chosen, in words; `null` when unknown. */
  readonly backendReason: string | null;
  /** The transport the workers communicated over. */
  readonly transport: "tcp" | "memory";
  /** `real` or `virtual` (see {@linkcode RunOptions.clock}). */
  readonly clock: "real" | "virtual";
  /** On the virtual clock: the simulated time of the run, the latest worker's, in ms. */
  readonly virtualTimeMs: number | null;
  /** How TCP workers were started (`threads`, `processes` or `none`); `null` for `memory`. */
  readonly launch: string | null;
  /**
   * Present (true) when every mesh frame carried a MAC (`RunOptions.macMesh`): each of the
   * run's mesh frames counted 16 bytes more than `gossamer plan` predicts.
   */
  readonly macMesh?: true;
  /** Deno's version (coordinator) and TensorFlow.js's (as reported by the workers, else `null`). */
  readonly versions: { readonly deno: string; readonly tfjs: string | null };
  /** Uploads sent and skipped (`cada`); `null` for algorithms where every worker always sends. */
  readonly uploads: UploadSummary | null;
  /**
   * The most bytes one worker wrote for a single outer synchronisation, frame headers included
   * (Streaming DiLoCo, whose fragment syncs differ in size); absent for other algorithms.
   */
  readonly peakSyncBytes?: number;
  /**
   * How the all-reduces moved: `"shared memory"` (thread workers of one process), `"ring over
   * TCP"`, `"hierarchical"` (worker processes of several thread workers each,
   * `gossamer worker --local-workers`: shared memory within a process, a ring between the
   * processes over TCP), or `"ring in one thread"` (memory transport).
   */
  readonly allReduce: "shared memory" | "ring over TCP" | "hierarchical" | "ring in one thread";
  /** The checkpoints this run wrote; `null` when it wrote none. */
  readonly checkpoints: CheckpointSummary | null;
  /**
   * Elastic runs only: every change of membership, in order (the `membership` lines of
   * `metrics.jsonl`); empty when no worker left.
   */
  readonly membership?: readonly MembershipChange[];
}

/** A change of an elastic run's membership, as `summary.json` lists it. */
export interface MembershipChange {
  /** The index (from 0) of the first step synchronised over the new members: `leaveAt − 1`. */
  readonly step: number;
  /** The workers that left before that step. */
  readonly left: readonly number[];
  /** The live workers from that step on, ascending. */
  readonly members: readonly number[];
  /**
   * Why: `"declared"`, a leave declared in `network({ failures })`; `"lost"`, a worker of a TCP
   * run that died or could not be reached; `"joined"`, a worker that came back.
   */
  readonly reason: "declared" | "lost" | "joined";
  /** For a loss: what the coordinator saw, naming the worker. */
  readonly detail?: string;
  /** The workers that joined (again) at this step. */
  readonly joined?: readonly number[];
}

/** The checkpoints a run wrote. */
export interface CheckpointSummary {
  /** The checkpoint period, in steps. */
  readonly every: number;
  /** The steps done at each checkpoint this run wrote that is still on disk, in order. */
  readonly steps: readonly number[];
  /** Size of the newest checkpoint file, bytes. */
  readonly bytes: number;
  /** Mean time to write one checkpoint file once every worker's state arrived, ms. */
  readonly meanWriteMs: number;
}

/** The workers' final models, and the named tensors each model's flat vector is made of. */
export interface FinalModels {
  /** Each worker's final model, by rank (none for a worker an elastic TCP run lost). */
  readonly models: Float32Array[];
  /** The workers an elastic TCP run lost, in the order it lost them. */
  readonly lost?: readonly {
    readonly worker: number;
    readonly steps: number;
    readonly reason: string;
  }[];
  /** The model's named tensors (`TrainableModel.tensors`), as worker 0 reported them. */
  readonly tensors: readonly TensorLayout[];
}

/** What `run()` returns. */
export interface RunResult {
  /** The run folder: `plan.json`, `metrics.jsonl`, `summary.json` and `params.json`. */
  readonly folder: string;
  /** What `summary.json` holds. */
  readonly summary: RunSummary;
  /** Each worker's final model, and their average. */
  readonly params: RunParams;
}

/** A finished run's parameters, as `params.json` holds them. */
export interface RunParams {
  /** By rank; `null` for a worker an elastic TCP run lost (it handed back no model). */
  readonly workers: (number[] | null)[];
  /** The element-wise mean of the workers' models (the model the run evaluates). */
  readonly average: number[];
  /**
   * Elastic runs that lost workers: each lost worker and the steps it did. Its entry in
   * `workers` holds its parameters as they were when it left; `average` is over the others.
   */
  readonly left?: readonly { readonly worker: number; readonly steps: number }[];
}

/**
 * The checkpoint a failed run can continue from with {@linkcode resume}: its steps, and whether it
 * is the newest (else a newer one is damaged, and `from: step` or `fallback: true` picks this one).
 */
export interface ResumableCheckpoint {
  /** The steps done when it was written. */
  readonly step: number;
  /** Whether it is the run's newest checkpoint. */
  readonly newest: boolean;
}

/** What a {@linkcode RunError} holds besides its message. */
export interface RunErrorOptions extends ErrorOptions {
  /** The checkpoint to continue from, where continuing can help (not after a divergence). */
  readonly resumable?: ResumableCheckpoint;
}

/**
 * The run failed; the run folder holds what was written before the failure.
 *
 * The message says what failed and, where there is one, which checkpoint is left; it names no
 * command (a library caller continues with {@linkcode resume}); the command line adds its own
 * hint from {@linkcode RunError.resumable}.
 */
export class RunError extends Error {
  /** The checkpoint a resume should continue from, or `null` when none would help. */
  readonly resumable: ResumableCheckpoint | null;

  /**
   * Builds the error for a failed or interrupted run.
   *
   * @param message What failed, naming the worker where known.
   * @param folder The run folder.
   * @param interrupted Whether the run was stopped through its abort signal.
   * @param options The error that failed the run, as `cause`, where there is one, and the
   *   checkpoint to continue from.
   */
  constructor(
    message: string,
    readonly folder: string,
    readonly interrupted = false,
    options?: RunErrorOptions,
  ) {
    super(message, options);
    this.name = "RunError";
    this.resumable = options?.resumable ?? null;
  }
}

/** The backend and versions the workers reported. */
export interface RuntimeFacts {
  backend: string | null;
  backendReason: string | null;
  tfjs: string | null;
  /** The first registered worker's shared-memory group size (groups are equal). */
  sharedGroup?: number;
}

/**
 * Mean bytes sent per worker over a run, all phases.
 *
 * @param summary The run's summary.
 * @returns Bytes.
 */
export function meanBytesSent(summary: RunSummary): number {
  const sent = summary.bytes.map((bytes) => totalBytes(bytes.sent));
  return sent.reduce((a, b) => a + b, 0) / Math.max(1, sent.length);
}
