/**
 * `gossamer run <pipeline.ts|plan.json>`: runs a plan and writes its run folder; and
 * `gossamer resume`: continues one from a checkpoint.
 *
 * @module
 */

import type { Plan } from "../dsl/plan.ts";
import { parsePlan, PlanError } from "../dsl/validate.ts";
import { resourceIssues } from "../runtime/resources.ts";
import type { BackendRequest } from "../runtime/backend.ts";
import { loadPlan } from "../runtime/load_plan.ts";
import { run } from "../runtime/coordinator/run.ts";
import { resume, type Resuming } from "../runtime/coordinator/resume.ts";
import { meanBytesSent, type RunResult, type RunSummary } from "../runtime/run_types.ts";
import { formatBytes, table } from "../report/format.ts";
import { buildReport } from "../report/mod.ts";
import { writeFileAtomic } from "./write_file.ts";
import { join } from "node:path";
import { withInterrupt } from "./interrupt.ts";
import { ProgressBar } from "./progress_bar.ts";
import { kernelSelection } from "../runtime/kernels/vector_kernels.ts";

/** Options of `gossamer run`. */
export interface RunCommandOptions {
  readonly out?: string;
  readonly workers?: number;
  readonly steps?: number;
  readonly evalEvery?: number;
  readonly seed?: number;
  readonly backend: BackendRequest;
  readonly transport: "tcp" | "memory";
  readonly clock?: "real" | "virtual";
  readonly launch: "threads" | "processes" | "none";
  readonly rendezvous?: string;
  readonly quiet?: boolean;
  /** Write the run's HTML report: `true` for `report.html` in the run folder, or a path. */
  readonly report?: string | true;
  /** Write a checkpoint every this many steps. */
  readonly checkpointEvery?: number;
  /** Checkpoints to keep. */
  readonly keep?: number;
  /** The coordinator's silence timeout, ms. */
  readonly silenceTimeout?: number;
  /** The workers' peer timeout, ms. */
  readonly peerTimeout?: number;
  /** Run even if the estimated memory exceeds what is available. */
  readonly ignoreMemory?: boolean;
  /** Accept an `http:`/`https:` custom model module (`--allow-remote-modules`). */
  readonly allowRemoteModules?: boolean;
  /** Whether thread workers all-reduce through shared memory (default true). */
  readonly sharedMemory?: boolean;
  /** Workers per process with `--launch processes` (default 1). */
  readonly localWorkers?: number;
  /** A file holding the run's secret. */
  readonly secretFile?: string;
  /** A connection's handshake limit, ms. */
  readonly handshakeTimeout?: number;
  /** Authenticate every mesh frame with a MAC. */
  readonly macMesh?: boolean;
  /** TLS certificate chain, key and CA files. */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsCa?: string;
}

/**
 * `{ allowRemoteModules: true }` when `--allow-remote-modules` was given, else nothing: the
 * options `loadPlan` and `run` take.
 */
export function remoteModules(
  options: { readonly allowRemoteModules?: boolean },
): { allowRemoteModules?: true } {
  return options.allowRemoteModules ? { allowRemoteModules: true } : {};
}

/** The TLS files given on the command line, or nothing when none is. */
export function tlsOption(options: { tlsCert?: string; tlsKey?: string; tlsCa?: string }) {
  if (
    options.tlsCert === undefined && options.tlsKey === undefined && options.tlsCa === undefined
  ) {
    return {};
  }
  return {
    tls: {
      ...(options.tlsCert === undefined ? {} : { cert: options.tlsCert }),
      ...(options.tlsKey === undefined ? {} : { key: options.tlsKey }),
      ...(options.tlsCa === undefined ? {} : { ca: options.tlsCa }),
    },
  };
}

/**
 * The evaluation period after overriding the steps: the one asked for, else the plan's scaled
 * with the steps, so a shorter or longer run keeps about as many evaluations and its curves keep
 * their points. Never more than the steps.
 *
 * @param plan The plan as written.
 * @param steps The new steps.
 * @param asked `--eval-every`, if given.
 * @returns The evaluation period.
 * @example A tenth of the run stays a tenth
 * ```ts
 * import assert from "node:assert/strict";
 * import { scaledEvalEvery } from "./run_command.ts";
 *
 * assert.equal(scaledEvalEvery({ steps: 600, evalEvery: 60 }, 50, undefined), 5);
 * assert.equal(scaledEvalEvery({ steps: 600, evalEvery: 60 }, 50, 25), 25);
 * assert.equal(scaledEvalEvery({ steps: 600, evalEvery: 60 }, 3, undefined), 1);
 * ```
 */
export function scaledEvalEvery(
  plan: { readonly steps: number; readonly evalEvery: number },
  steps: number,
  asked: number | undefined,
): number {
  const every = asked ?? Math.max(1, Math.round(plan.evalEvery * steps / plan.steps));
  return Math.min(every, steps);
}

/**
 * Applies command-line overrides to a plan and checks the result again, files included. The
 * evaluation period follows the steps (see {@linkcode scaledEvalEvery}).
 */
export async function overridePlan(
  plan: Plan,
  options: RunCommandOptions,
  source: string,
): Promise<Plan> {
  const steps = options.steps ?? plan.steps;
  const overridden = parsePlan({
    ...plan,
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    steps,
    evalEvery: scaledEvalEvery(plan, steps, options.evalEvery),
  }, `${source} with the command-line overrides`);
  const issues = await resourceIssues(overridden);
  if (issues.length > 0) throw new PlanError(issues, `${source} with the command-line overrides`);
  return overridden;
}

/** Prints the result of one run. */
export function reportRun(result: RunResult): string {
  const { summary } = result;
  const accuracy = summary.final?.testAccuracy;
  const simulated = summary.virtualTimeMs === null ? [] : ["simulated time"];
  // Language models: the loss also in bits per token and as a perplexity.
  const bits = summary.final?.bitsPerToken;
  const perplexity = summary.final?.perplexity;
  const language = bits === undefined || perplexity === undefined
    ? null
    : { bits: bits.toFixed(4), perplexity: perplexity.toFixed(3) };
  return table(
    [
      "algorithm",
      "workers",
      "final accuracy",
      "final loss",
      ...(language === null ? [] : ["bits/token", "perplexity"]),
      "bytes sent/worker",
      "wall time",
      ...simulated,
    ],
    [[
      summary.algorithm,
      String(summary.workers),
      accuracy === null || accuracy === undefined ? "-" : `${(100 * accuracy).toFixed(2)}%`,
      summary.final === null ? "-" : summary.final.testLoss.toFixed(4),
      ...(language === null ? [] : [language.bits, language.perplexity]),
      formatBytes(meanBytesSent(summary)),
      `${(summary.wallTimeMs / 1000).toFixed(1)} s`,
      ...(summary.virtualTimeMs === null ? [] : [`${(summary.virtualTimeMs / 1000).toFixed(2)} s`]),
    ]],
  ) + uploadsLine(summary) +
    (summary.peakSyncBytes === undefined
      ? ""
      : `\npeak bytes of a single outer sync ${formatBytes(summary.peakSyncBytes)} per worker`) +
    `\nbackend ${summary.backend} (${summary.backendReason}); ${kernelsLine()}; run folder ${result.folder}`;
}

/**
 * The vector kernels of this process and why (`runtime/kernels/`); workers choose the same way on
 * the same engine.
 */
function kernelsLine(): string {
  const { kernels, reason } = kernelSelection();
  return `vector kernels ${kernels} (${reason})`;
}

/** A line on uploads sent and skipped, for algorithms that skip them (`cada`); else empty. */
function uploadsLine(summary: RunSummary): string {
  const uploads = summary.uploads;
  if (uploads === null) return "";
  const sent = uploads.possible - uploads.roundsSaved;
  return `\nuploads ${sent} of ${uploads.possible} (${
    (100 * uploads.skipRate).toFixed(1)
  }% skipped: ${uploads.roundsSaved} rounds saved against distributed Adam)`;
}

/**
 * Runs `gossamer run`.
 *
 * @param input A pipeline module or plan JSON file.
 * @param options Overrides, backend, transport and output folder.
 */
export async function runCommand(input: string, options: RunCommandOptions): Promise<void> {
  const plan = await overridePlan(await loadPlan(input, remoteModules(options)), options, input);
  const bar = new ProgressBar(!options.quiet);
  try {
    const result = await withInterrupt((signal) =>
      run(plan, {
        signal,
        ...(options.out === undefined ? {} : { out: options.out }),
        ...(options.rendezvous === undefined ? {} : { rendezvous: options.rendezvous }),
        transport: options.transport,
        clock: options.clock ?? "real",
        ...(options.checkpointEvery === undefined
          ? {}
          : { checkpointEvery: options.checkpointEvery }),
        ...(options.keep === undefined ? {} : { keepCheckpoints: options.keep }),
        ...(options.silenceTimeout === undefined
          ? {}
          : { silenceTimeoutMs: options.silenceTimeout }),
        ...(options.peerTimeout === undefined ? {} : { peerTimeoutMs: options.peerTimeout }),
        ...(options.ignoreMemory ? { ignoreMemory: true } : {}),
        ...remoteModules(options),
        // deno.json enables the worker options this needs.
        limitThreadPermissions: true,
        ...(options.secretFile === undefined ? {} : { secretFile: options.secretFile }),
        ...(options.handshakeTimeout === undefined
          ? {}
          : { handshakeTimeoutMs: options.handshakeTimeout }),
        ...(options.sharedMemory === false ? { sharedMemory: false } : {}),
        ...(options.localWorkers === undefined ? {} : { localWorkers: options.localWorkers }),
        ...(options.macMesh ? { macMesh: true } : {}),
        ...tlsOption(options),
        backend: options.backend,
        launch: options.launch,
        onListening: (address) => {
          if (options.launch === "none") {
            console.error(`Waiting for ${plan.workers} workers at ${address}`);
          }
        },
        onProgress: (progress) => bar.update(progress),
      })
    );
    bar.done();
    // Quiet still names the run folder: it is where everything the run produced went.
    console.log(options.quiet ? result.folder : reportRun(result));
    if (options.report !== undefined) {
      const path = options.report === true ? join(result.folder, "report.html") : options.report;
      const report = await buildReport([result.folder], { title: `gossamer run ${input}` });
      await writeFileAtomic(path, report.html);
      console.log(options.quiet ? path : `report ${path}`);
    }
  } finally {
    bar.done();
  }
}

/** Options of `gossamer resume`. */
export interface ResumeCommandOptions {
  readonly from?: number;
  readonly fallback?: boolean;
  readonly out?: string;
  readonly steps?: number;
  /** Default: the transport of the run that wrote the checkpoint. */
  readonly transport?: "tcp" | "memory";
  /** Default: the clock of the run that wrote the checkpoint. */
  readonly clock?: "real" | "virtual";
  readonly backend: BackendRequest;
  readonly ignoreMemory?: boolean;
  readonly allowRemoteModules?: boolean;
  readonly quiet?: boolean;
  /** Authenticate every mesh frame with a MAC. */
  readonly macMesh?: boolean;
}

/**
 * What `gossamer resume` continues from and how, in words: the clock and transport, and whether
 * they are the run's own or were asked for.
 *
 * @param folder The run folder.
 * @param resuming The checkpoint and how the run continues.
 * @returns One line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resumingLine } from "./run_command.ts";
 *
 * assert.equal(
 *   resumingLine("runs/a", {
 *     step: 8, clock: "virtual", transport: "memory", kept: { clock: true, transport: true },
 *   }),
 *   "Resuming runs/a after 8 steps on the virtual clock (the run's) over the memory transport (the run's)",
 * );
 * ```
 */
export function resumingLine(folder: string, resuming: Resuming): string {
  const whose = (kept: boolean) => kept ? "the run's" : "not the run's";
  return `Resuming ${folder} after ${resuming.step} steps on the ${resuming.clock} clock (${
    whose(resuming.kept.clock)
  }) over the ${resuming.transport} transport (${whose(resuming.kept.transport)})`;
}

/**
 * Runs `gossamer resume`: continues a run from its newest (or the named) checkpoint.
 *
 * @param folder The run folder.
 * @param options The checkpoint, the output folder, the steps and how to run.
 */
export async function resumeCommand(folder: string, options: ResumeCommandOptions): Promise<void> {
  const bar = new ProgressBar(!options.quiet);
  try {
    const result = await withInterrupt((signal) =>
      resume(folder, {
        signal,
        ...(options.transport === undefined ? {} : { transport: options.transport }),
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        backend: options.backend,
        onResuming: (resuming) => {
          if (!options.quiet) console.error(resumingLine(folder, resuming));
        },
        ...(options.from === undefined ? {} : { from: options.from }),
        ...(options.fallback ? { fallback: true } : {}),
        ...(options.out === undefined ? {} : { out: options.out }),
        ...(options.steps === undefined ? {} : { steps: options.steps }),
        ...(options.ignoreMemory ? { ignoreMemory: true } : {}),
        ...(options.macMesh ? { macMesh: true } : {}),
        ...remoteModules(options),
        limitThreadPermissions: true,
        onProgress: (progress) => bar.update(progress),
      })
    );
    bar.done();
    console.log(options.quiet ? result.folder : reportRun(result));
  } finally {
    bar.done();
  }
}
