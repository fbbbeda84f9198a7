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
import type { MetricsLine } from "../metrics.ts";
import {
  RunError,
  type RunOptions,
  type RunResult,
  type RunSummary,
  type RuntimeFacts,
} from "../run_types.ts";
import { unsupportedNodes } from "../support.ts";
import { defaultRunFolder, RunFolder } from "./run_folder.ts";
import { runInMemory } from "./run_memory.ts";
import { RunTotals } from "./run_totals.ts";
import { runOverTcp } from "./run_tcp.ts";

/** Why the transport and the clock cannot run the plan's network, or `null` when they can. */
function clockProblemOf(plan: Plan, options: RunOptions): string | null {
  const transport = options.transport ?? "tcp";
  if (options.clock === "virtual" && transport !== "memory") {
    return "the virtual clock runs every worker in one thread: use --transport memory";
  }
  if (options.clock !== "virtual" && transport === "memory" && plan.network !== null) {
    return "a declared network is applied by the TCP transport in real time, or simulated with --clock virtual; the memory transport in real time cannot apply it";
  }
  return null;
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
  const out = options.out ?? defaultRunFolder(plan);
  if (unsupported.length > 0) {
    throw new RunError(
      `Cannot run the plan: this runtime cannot execute ${unsupported.join("; ")}`,
      out,
    );
  }
  const clockProblem = clockProblemOf(plan, options);
  if (clockProblem !== null) throw new RunError(`Cannot run the plan: ${clockProblem}`, out);
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
    versions: { deno: Deno.version.deno, tfjs: facts.tfjs },
    uploads: totals.uploads,
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
