/**
 * The coordinator: runs a plan and writes its run folder.
 *
 * With the TCP transport (the default) it listens at a rendezvous address, launches the
 * workers (Web Workers in this process, local processes, or none when workers on other hosts
 * join by themselves with `gossamer worker`), waits for every worker to register its mesh
 * address, sends the address table, then streams metrics to `metrics.jsonl` until every worker
 * hands back its final model. With the memory transport every rank runs in this thread.
 *
 * The first failure anywhere (a worker error, a worker that dies or disconnects, NaN loss, a
 * silent worker) aborts the run: every worker is told to stop and then terminated, the summary
 * records the cause, and {@linkcode RunError} names the worker and the cause.
 *
 * @module
 */

import type { Plan } from "../dsl/plan.ts";
import type { BackendRequest } from "./backend.ts";
import { type PhaseBytes, PHASES } from "./comm/types.ts";
import { defaultRunFolder, RunFolder } from "./run_folder.ts";
import { runInMemory } from "./run_memory.ts";
import { type Progress, RunTotals } from "./run_progress.ts";
import { runOverTcp } from "./run_tcp.ts";
import { unsupportedNodes } from "./support.ts";
import type { MetricsLine } from "./worker_loop.ts";

/** How to run a plan. */
export interface RunOptions {
  /** Run folder (default: a new folder under `runs/`). */
  readonly out?: string;
  /** `tcp` (default): workers connected by TCP; `memory`: every rank in this thread. */
  readonly transport?: "tcp" | "memory";
  /** TensorFlow.js backend request (default `auto`). */
  readonly backend?: BackendRequest;
  /** TCP only: `threads` (default) Web Workers, `processes` local subprocesses, `none` external. */
  readonly launch?: "threads" | "processes" | "none";
  /** TCP only: coordinator address (default `127.0.0.1:0`, any free port). */
  readonly rendezvous?: string;
  /** Called with the rendezvous address once the coordinator listens (for external workers). */
  readonly onListening?: (address: string) => void;
  /** Called after metrics arrive. */
  readonly onProgress?: (progress: Progress) => void;
  /** Fail when no worker has sent anything for this long (default 60 s). */
  readonly silenceTimeoutMs?: number;
  /** Workers fail when a peer is silent this long (default: the transport's). */
  readonly peerTimeoutMs?: number;
  /** Aborting it stops the run (e.g. on Ctrl-C); the summary records the reason. */
  readonly signal?: AbortSignal;
}

/** Bytes one worker sent and received, per phase. */
export interface WorkerBytes {
  readonly worker: number;
  readonly sent: PhaseBytes;
  readonly received: PhaseBytes;
}

/** `summary.json`. */
export interface RunSummary {
  readonly status: "completed" | "failed";
  readonly error: string | null;
  readonly steps: number;
  readonly workers: number;
  readonly algorithm: string;
  /** The last evaluation of the averaged model. */
  readonly final: { step: number; testLoss: number; testAccuracy: number | null } | null;
  readonly wallTimeMs: number;
  readonly bytes: readonly WorkerBytes[];
  readonly backend: string | null;
  readonly backendReason: string | null;
  readonly transport: "tcp" | "memory";
  readonly launch: string | null;
  readonly versions: { readonly deno: string; readonly tfjs: string | null };
}

/** What `run()` returns. */
export interface RunResult {
  readonly folder: string;
  readonly summary: RunSummary;
  /** Each worker's final model, and their average. */
  readonly params: { readonly workers: number[][]; readonly average: number[] };
}

/** The run failed; the run folder holds what was written before the failure. */
export class RunError extends Error {
  /**
   * @param message What failed, naming the worker where known.
   * @param folder The run folder.
   * @param interrupted Whether the run was stopped through its abort signal.
   */
  constructor(message: string, readonly folder: string, readonly interrupted = false) {
    super(message);
    this.name = "RunError";
  }
}

/** The element-wise mean of the workers' models, in float64, as written to `params.json`. */
function averageOf(models: readonly Float32Array[]): number[] {
  const d = models[0]?.length ?? 0;
  const sum = new Float64Array(d);
  for (const model of models) for (let j = 0; j < d; j++) sum[j]! += model[j]!;
  return Array.from(sum, (value) => Math.fround(value / models.length));
}

/** A short name of the algorithm chain. */
function algorithmName(plan: Plan): string {
  return [plan.base.kind, plan.compress?.kind, plan.outer?.kind].filter(Boolean).join(" + ");
}

/** The backend and versions the workers reported. */
export interface RuntimeFacts {
  backend: string | null;
  backendReason: string | null;
  tfjs: string | null;
}

/**
 * Runs a plan to completion and writes its run folder.
 *
 * @param plan A valid plan.
 * @param options Transport, launch mode, backend, output folder, progress callback.
 * @returns The folder, the summary and the final parameters.
 * @throws {RunError} When the plan holds unsupported nodes or the run fails.
 * @example Four workers on the deterministic least-squares problem, in this thread
 * ```ts
 * import { gossip, leastSquares, linear, ring, run, sgd, train } from "../mod.ts";
 *
 * const plan = train(linear({ dim: 3 }))
 *   .data(leastSquares({ file: new URL("../examples/data/least_squares_4.json", import.meta.url) }))
 *   .workers(4)
 *   .optimizer(sgd({ lr: 0.05 }))
 *   .base(gossip(ring))
 *   .steps(20)
 *   .compile();
 * const out = await Deno.makeTempDir();
 * const result = await run(plan, { transport: "memory", out: `${out}/run` });
 * console.assert(result.summary.status === "completed" && result.params.workers.length === 4);
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function run(plan: Plan, options: RunOptions = {}): Promise<RunResult> {
  const unsupported = unsupportedNodes(plan);
  const out = options.out ?? defaultRunFolder(plan);
  if (unsupported.length > 0) {
    throw new RunError(
      `Cannot run the plan: this runtime cannot execute ${unsupported.join("; ")}`,
      out,
    );
  }
  const folder = await RunFolder.create(out, plan).catch((error: Error) => {
    throw new RunError(error.message, out);
  });
  const totals = new RunTotals(plan.workers, plan.steps);
  const transport = options.transport ?? "tcp";
  const facts: RuntimeFacts = { backend: null, backendReason: null, tfjs: null };
  const start = performance.now();
  const sink = (lines: readonly MetricsLine[]) => {
    folder.writeMetrics(lines);
    for (const line of lines) totals.add(line);
    options.onProgress?.(totals.progress());
  };
  const summarize = (error: string | null): RunSummary => ({
    status: error === null ? "completed" : "failed",
    error,
    steps: plan.steps,
    workers: plan.workers,
    algorithm: algorithmName(plan),
    final: totals.evaluation,
    wallTimeMs: performance.now() - start,
    bytes: totals.sent.map((sent, worker) => ({
      worker,
      sent,
      received: totals.received[worker]!,
    })),
    backend: facts.backend,
    backendReason: facts.backendReason,
    transport,
    launch: transport === "tcp" ? options.launch ?? "threads" : null,
    versions: { deno: Deno.version.deno, tfjs: facts.tfjs },
  });
  try {
    const models = transport === "memory"
      ? await runInMemory(plan, options, sink, facts)
      : await runOverTcp(plan, options, sink, facts);
    const params = {
      workers: models.map((model) => Array.from(model)),
      average: averageOf(models),
    };
    await folder.writeJson("params.json", params);
    const summary = summarize(null);
    await folder.writeJson("summary.json", summary);
    return { folder: out, summary, params };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await folder.writeJson("summary.json", summarize(message)).catch(() => {});
    throw new RunError(message, out, options.signal?.aborted ?? false);
  } finally {
    folder.close();
  }
}

/**
 * Bytes in all phases together.
 *
 * @param bytes Bytes per phase (a worker's, or an estimate from `explainPlan`).
 * @returns Their sum.
 */
export function totalBytes(bytes: PhaseBytes): number {
  return PHASES.reduce((sum, phase) => sum + bytes[phase], 0);
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
