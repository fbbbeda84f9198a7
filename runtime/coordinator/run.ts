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

import { algorithmKinds } from "../../dsl/explain.ts";
import type { Plan } from "../../dsl/plan.ts";
import type { TensorLayout } from "../models/types.ts";
import { languageSample } from "./text_sample.ts";
import type { MetricsLine } from "../metrics.ts";
import {
  RunError,
  type RunOptions,
  type RunResult,
  type RunSummary,
  type RuntimeFacts,
} from "../run_types.ts";
import { unsupportedNodes } from "../support.ts";
import { moduleIssues } from "../module_refs.ts";
import { formatIssues } from "../../dsl/validate.ts";
import { claimRunFolder, defaultRunFolder, RunFolder } from "./run_folder.ts";
import { join, resolve } from "node:path";
import { planHash } from "../plan_hash.ts";
import { encodeSafetensors } from "../safetensors.ts";
import { memoryProblem } from "../memory_estimate.ts";
import {
  type CheckpointHooks,
  type CheckpointMembership,
  checkpointPath,
  CheckpointWriter,
  DEFAULT_KEEP,
  listCheckpoints,
  RESUMABLE_KEYS,
} from "./checkpoints.ts";
import {
  elasticCheckpointProblem,
  elasticResumeProblem,
  elasticRunProblem,
  liveWorkers,
  lostWorkers,
} from "../worker/membership.ts";
import { shapesLinks } from "../network/links.ts";
import { runInMemory } from "./run_memory.ts";
import { RunTotals } from "./run_totals.ts";
import { runOverTcp } from "./run_tcp.ts";
import { localWorkersProblem } from "../worker/thread_group.ts";
import { messageOf } from "../errors.ts";
import { resultProblem } from "./check_results.ts";
import { DiskWriteError } from "./disk_full.ts";
import { divergedAt } from "../worker/worker_loop.ts";
import { timeoutProblem } from "../timeouts.ts";

/** Why the transport and the clock cannot run the plan's network, or `null` when they can. */
function clockProblemOf(plan: Plan, options: RunOptions): string | null {
  const transport = options.transport ?? "tcp";
  if (options.clock === "virtual" && transport !== "memory") {
    return "the virtual clock runs every worker in one thread: use --transport memory";
  }
  // A network that only declares failures (an elastic run's leaves) has nothing to apply.
  const applied = plan.network !== null &&
    (shapesLinks(plan.network) || plan.network.stragglers !== null ||
      plan.network.computeMs !== null);
  if (options.clock !== "virtual" && transport === "memory" && applied) {
    return "a declared network is applied by the TCP transport in real time, or simulated with --clock virtual; the memory transport in real time cannot apply it";
  }
  return null;
}

/** Why the launch cannot run several workers per process as asked, or `null`. */
function localWorkersProblemOf(plan: Plan, options: RunOptions): string | null {
  const local = options.localWorkers ?? 1;
  if (local === 1) return null;
  if ((options.transport ?? "tcp") !== "tcp" || options.launch !== "processes") {
    return "several workers per process (--local-workers) need --launch processes: thread workers already share one process";
  }
  return localWorkersProblem(plan.workers, local);
}

/**
 * How the run's all-reduces moved, from what the workers said of their shared-memory groups
 * (a run that failed before any worker registered: from the launch).
 */
function allReducePath(
  plan: Plan,
  options: RunOptions,
  facts: RuntimeFacts,
): RunSummary["allReduce"] {
  if ((options.transport ?? "tcp") === "memory") return "ring in one thread";
  const group = facts.sharedGroup ??
    ((options.launch ?? "threads") === "threads" && options.sharedMemory !== false
      ? plan.workers
      : 1);
  if (group <= 1 || plan.workers === 1) return "ring over TCP";
  return group >= plan.workers ? "shared memory" : "hierarchical";
}

/** The element-wise mean of the workers' models, in float64, as written to `params.json`. */
function averageOf(models: readonly Float32Array[]): number[] {
  const d = models[0]?.length ?? 0;
  const sum = new Float64Array(d);
  for (const model of models) for (let j = 0; j < d; j++) sum[j]! += model[j]!;
  return Array.from(sum, (value) => Math.fround(value / models.length));
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
 * import assert from "node:assert/strict";
 * import { gossip, leastSquares, linear, ring, run, sgd, train } from "../../mod.ts";
 *
 * const plan = train(linear({ dim: 3 }))
 *   .data(leastSquares({ file: new URL("../../examples/data/least_squares_4.json", import.meta.url) }))
 *   .workers(4)
 *   .optimizer(sgd({ lr: 0.05 }))
 *   .base(gossip(ring))
 *   .steps(20)
 *   .compile();
 * const out = await Deno.makeTempDir();
 * const result = await run(plan, { transport: "memory", out: `${out}/run` });
 * assert.ok(result.summary.status === "completed" && result.params.workers.length === 4);
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function run(plan: Plan, options: RunOptions = {}): Promise<RunResult> {
  const unsupported = unsupportedNodes(plan);
  // Messages before a folder exists name the one asked for, or the default name.
  let out = options.out ?? defaultRunFolder(plan);
  if (unsupported.length > 0) {
    throw new RunError(
      `Cannot run the plan: this runtime cannot execute ${unsupported.join("; ")}`,
      out,
    );
  }
  // Elastic plans: declared leaves on the memory transport, real losses over TCP.
  const elastic = elasticRunProblem(plan, options.transport ?? "tcp", options.localWorkers ?? 1) ??
    elasticCheckpointProblem(
      plan,
      options.checkpointEvery !== undefined || options.resume !== undefined,
    ) ?? elasticResumeProblem(plan, options);
  if (elastic !== null) throw new RunError(`Cannot run the plan: ${elastic}`, out);
  // A plan object may come from anywhere (a parsed plan.json): its module is checked here too.
  const refused = moduleIssues(plan, options);
  if (refused.length > 0) {
    throw new RunError(`Cannot run the plan: ${formatIssues(refused)}`, out);
  }
  const optionsProblem = clockProblemOf(plan, options) ?? localWorkersProblemOf(plan, options) ??
    timeoutProblem(options, ["silenceTimeoutMs", "peerTimeoutMs", "handshakeTimeoutMs"]);
  if (optionsProblem !== null) throw new RunError(`Cannot run the plan: ${optionsProblem}`, out);
  const inThisThread = (options.transport ?? "tcp") === "memory";
  const workersHere = inThisThread || options.launch !== "none";
  const memory = workersHere && !options.ignoreMemory ? memoryProblem(plan, inThisThread) : null;
  if (memory !== null) throw new RunError(`Cannot run the plan: ${memory}`, out);
  const resume = options.resume ?? null;
  // A resumed run keeps the metrics up to its checkpoint; the rest of its timeline is replaced.
  const kept = resume === null ? [] : await keptLines(resume.folder, resume.step).catch(
    (error: Error) => {
      throw new RunError(error.message, out);
    },
  );
  const inPlace = resume !== null && await sameFolder(resume.folder, out);
  if (options.out === undefined) {
    out = await claimRunFolder(out).catch((error: Error) => {
      throw new RunError(`Cannot create a run folder under ${out}: ${error.message}`, out);
    });
  }
  const folder =
    await (resume === null
      ? RunFolder.create(out, plan)
      : RunFolder.resume(out, plan, kept, inPlace)).catch((error: Error) => {
        throw new RunError(error.message, out);
      });
  if (inPlace) await dropCheckpointsAfter(out, resume!.step);
  const totals = new RunTotals(plan.workers, plan.steps);
  for (const line of kept) totals.add(line);
  const checkpointErrors: string[] = [];
  // A run folder that cannot be written (a full disk) stops the run at once, through the same
  // path as an interruption, so the message says why rather than naming a lost worker.
  const halt = new AbortController();
  const signal = AbortSignal.any(
    [options.signal, options.failSignal, halt.signal].filter((one) => one !== undefined),
  );
  const stopForDisk = (error: unknown) => {
    if (!halt.signal.aborted) halt.abort(error);
  };
  const every = options.checkpointEvery ?? null;
  const allWorkers = Array.from({ length: plan.workers }, (_, rank) => rank);
  const liveAt = liveWorkers(plan);
  // Elastic runs: each checkpoint holds its step's members, and who left (see CheckpointWriter).
  const membership: CheckpointMembership | null = plan.elastic === null ? null : {
    membersAt: (options.transport ?? "tcp") === "memory"
      ? (step) => liveAt?.(Math.max(0, step - 1)) ?? allWorkers
      : null,
    members: resume?.members ?? allWorkers,
    lost: resume?.lost ?? [],
  };
  const writer = every === null ? null : new CheckpointWriter(
    out,
    await planHash(plan, RESUMABLE_KEYS),
    plan.workers,
    every,
    options.keepCheckpoints ?? DEFAULT_KEEP,
    { clock: options.clock ?? "real", transport: options.transport ?? "tcp" },
    (error) =>
      error instanceof DiskWriteError ? stopForDisk(error) : checkpointErrors.push(error.message),
    membership,
  );
  const hooks: CheckpointHooks = {
    every,
    save: (rank, step, state) => writer?.add(rank, step, state),
    departed: (rank, state) => writer?.departed(rank, state),
    rewound: (rewindTo, members, lost) => writer?.rewound(rewindTo, members, lost),
    resume,
  };
  const transport = options.transport ?? "tcp";
  const facts: RuntimeFacts = { backend: null, backendReason: null, tfjs: null };
  const start = performance.now();
  const sink = (lines: readonly MetricsLine[]) => {
    if (halt.signal.aborted) return;
    try {
      folder.writeMetrics(lines);
    } catch (error) {
      stopForDisk(error);
      return;
    }
    for (const line of lines) {
      if (totals.addReported(line) && line.type === "step") {
        options.onProgress?.(totals.progress(line));
      }
    }
  };
  // Stopped from outside (the caller's signal), rather than failed by something in the run.
  const summarize = (error: string | null, stopped = false): RunSummary => ({
    status: error === null ? "completed" : stopped ? "stopped" : "failed",
    error,
    steps: plan.steps,
    workers: plan.workers,
    algorithm: algorithmKinds(plan).join(" + "),
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
    clock: options.clock ?? "real",
    virtualTimeMs: totals.virtualMs,
    launch: transport === "tcp" ? options.launch ?? "threads" : null,
    ...(transport === "tcp" && options.macMesh === true ? { macMesh: true as const } : {}),
    versions: { deno: Deno.version.deno, tfjs: facts.tfjs },
    uploads: totals.uploads,
    ...(totals.peakSyncBytes === null ? {} : { peakSyncBytes: totals.peakSyncBytes }),
    allReduce: allReducePath(plan, options, facts),
    ...(plan.elastic === null ? {} : { membership: totals.membership }),
    checkpoints: writer === null || writer.written.length === 0 ? null : {
      every: writer.every,
      // Only the checkpoints still on disk: older ones were pruned to the newest `keep`.
      steps: writer.kept,
      bytes: writer.written.at(-1)!.bytes,
      meanWriteMs: writer.written.reduce((sum, entry) => sum + entry.writeMs, 0) /
        writer.written.length,
    },
  });
  try {
    const { models, tensors, lost: lostOverTcp = [] } = transport === "memory"
      ? await runInMemory(plan, { ...options, signal }, sink, facts, hooks)
      : await runOverTcp(plan, { ...options, out, signal }, sink, facts, hooks);
    await writer?.settled();
    // The last metrics or checkpoint may have failed after the workers' last look at the signal.
    if (halt.signal.aborted) throw halt.signal.reason;
    // A worker that left an elastic run by declaration hands back its parameters as they were
    // when it left; one a TCP run lost has none (null in params.json). The average is over the
    // survivors, and params.json lists who left after how many steps.
    const lost = [
      ...lostWorkers(plan),
      ...lostOverTcp.map(({ worker, steps }) => ({ worker, steps })),
    ];
    const modelless = new Set(lostOverTcp.map((entry) => entry.worker));
    const stepsOf = (rank: number) =>
      modelless.has(rank) ? null : lost.find((entry) => entry.worker === rank)?.steps ?? plan.steps;
    const wrong = resultProblem(plan, models, (rank) => totals.stepsDone(rank), stepsOf);
    if (wrong !== null) throw new Error(wrong);
    const average = averageOf(
      models.filter((_, rank) => !lost.some((entry) => entry.worker === rank)),
    );
    const params = {
      workers: Array.from(models, (model, rank) => modelless.has(rank) ? null : Array.from(model)),
      average,
      ...(lost.length === 0 ? {} : { left: lost }),
    };
    await folder.writeJson("params.json", params);
    // The average as the float32 vector the files and the sample use, made once.
    const averaged = Float32Array.from(average);
    await folder.writeBytes("params.safetensors", paramsSafetensors(models, averaged));
    await folder.writeBytes("model.safetensors", modelSafetensors(plan, tensors, averaged));
    if (checkpointErrors.length > 0) throw new Error(checkpointErrors.join("; "));
    // A sample that cannot be drawn costs the run its sample, not its result.
    let sampleText: string | null = null;
    const sample = await languageSample(plan, averaged, facts.backend).catch((error) => {
      sampleText = `No sample: ${messageOf(error)}\n`;
      return null;
    });
    if (sample !== null) sampleText = `${sample.prompt}${sample.text}\n`;
    if (sampleText !== null) {
      await folder.writeBytes("sample.txt", new TextEncoder().encode(sampleText));
    }
    const summary = { ...summarize(null), ...(sample === null ? {} : { sample }) };
    await folder.writeJson("summary.json", summary);
    return { folder: out, summary, params };
  } catch (error) {
    await writer?.settled();
    // A full disk is the cause, whatever failed after it (the transports report it as an abort).
    const disk = halt.signal.aborted || error instanceof DiskWriteError;
    const cause = messageOf(halt.signal.aborted ? halt.signal.reason : error);
    const latest = writer?.latest ?? resume?.step ?? null;
    const lines = [cause];
    const stopped = !disk && !(options.failSignal?.aborted ?? false) &&
      (options.signal?.aborted ?? false);
    if (!await writeFailedSummary(folder, summarize(cause, stopped))) {
      lines.push(
        "No summary.json could be written either: compare and serve show the run as stopped",
      );
    }
    const diverged = divergedAt(cause);
    if (latest !== null) {
      lines.push(
        disk
          ? `The newest checkpoint is after ${latest} steps; continue from it once the disk can be written again`
          : continueAdvice(diverged, latest),
      );
    }
    const resumable = latest !== null && diverged === null
      ? { resumable: { step: latest, newest: true } }
      : {};
    throw new RunError(lines.join("\n"), out, options.signal?.aborted ?? false, {
      cause: error,
      ...resumable,
    });
  } finally {
    folder.close();
  }
}

/**
 * What the newest checkpoint of a failed run is good for. After a NaN or infinite loss, a
 * resume would repeat the same batches and random draws (they are functions of the step) and
 * diverge at the same step, and a resumed plan may change only its steps (the parameters are
 * usually already infinite a step or two before the loss is): the advice says so. Otherwise the
 * line names the checkpoint only; how to continue is the caller's (`resume()`, or the command
 * line's hint).
 *
 * @param diverged The step at which the loss stopped being finite, or `null`.
 * @param latest The steps of the newest checkpoint.
 * @returns One line.
 */
function continueAdvice(diverged: number | null, latest: number): string {
  if (diverged === null) return `The newest checkpoint is after ${latest} steps`;
  return `The newest checkpoint is after ${latest} steps, but resuming from it repeats the same batches and random draws and will diverge again at step ${diverged} (a resume may change only the steps and evalEvery): run the plan again with a lower learning rate or with gradient clipping (clipNorm)`;
}

/**
 * Writes a failed run's summary, and says whether it could; when the disk has no room for it, a
 * smaller one with only the status and the reason. When neither fits, the folder has no summary
 * and no writer, which reports show as a run that stopped (`isBeingWritten`), never as running.
 */
async function writeFailedSummary(folder: RunFolder, summary: RunSummary): Promise<boolean> {
  try {
    await folder.writeJson("summary.json", summary);
    return true;
  } catch {
    const { status, error, steps, workers, algorithm } = summary;
    return await folder.writeJson("summary.json", { status, error, steps, workers, algorithm })
      .then(() => true, () => false);
  }
}

/**
 * The parameters as safetensors, which PyTorch, NumPy and Hugging Face tools read: each worker's
 * final model (`worker0`, `worker1`, …; none for a worker an elastic TCP run lost) and their
 * average (`average`), float32.
 */
function paramsSafetensors(models: readonly Float32Array[], average: Float32Array) {
  return encodeSafetensors([
    ...Array.from(models, (data, rank) => ({ name: `worker${rank}`, data }))
      .filter((entry) => entry.data !== undefined),
    { name: "average", data: average },
  ], { format: "gossamer-params/1" });
}

/**
 * The final averaged model as one named tensor per variable (`TrainableModel.tensors`: Hugging
 * Face GPT-2 names for the transformer, `hidden0.kernel`… for the built-in Keras models,
 * `weight` for `linear`), float32, so that a user loads it by name without knowing the flat
 * order. `params.safetensors` keeps the flat vectors of every worker.
 */
function modelSafetensors(
  plan: Plan,
  tensors: readonly TensorLayout[],
  flat: Float32Array,
): Uint8Array {
  let offset = 0;
  const named = tensors.map(({ name, shape }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = flat.subarray(offset, offset + size);
    offset += size;
    return { name, shape, data };
  });
  return encodeSafetensors(named, { format: "gossamer-model/1", model: plan.model.kind });
}

/** The metrics lines of a run folder's first `step` steps (step indices below `step`). */
async function keptLines(folder: string, step: number): Promise<MetricsLine[]> {
  const path = join(folder, "metrics.jsonl");
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new Error(`Cannot read ${path}: ${messageOf(error)}`);
  }
  const lines: MetricsLine[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const parsed = JSON.parse(line) as MetricsLine;
      if (parsed.step < step) lines.push(parsed);
    } catch {
      // A line cut short when the run was killed: it is after the checkpoint anyway.
    }
  }
  return lines;
}

/** Whether two paths name the same folder. */
async function sameFolder(a: string, b: string): Promise<boolean> {
  const real = (path: string) => Deno.realPath(path).catch(() => resolve(path));
  return await real(a) === await real(b);
}

/** Removes a run folder's checkpoints of later steps: they belong to the timeline replaced. */
async function dropCheckpointsAfter(folder: string, step: number): Promise<void> {
  for (const later of (await listCheckpoints(folder)).filter((other) => other > step)) {
    await Deno.remove(checkpointPath(folder, later)).catch(() => {});
  }
}
