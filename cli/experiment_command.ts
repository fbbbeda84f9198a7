/**
 * `gossamer experiment <folder>`: runs every pipeline of an experiment folder with the same
 * options and prints one table comparing them: accuracy, training bytes per worker per step,
 * time (simulated on the virtual clock, else the workers' own training time), time to a target
 * accuracy, uploads (for algorithms that skip some, and how many it took to reach a target
 * training loss) and, for decentralized bases, the consensus distance.
 *
 * An experiment folder holds pipeline modules (and plan files) and optionally `experiment.json`:
 * `{ "title": "…", "transport": "memory" | "tcp", "clock": "real" | "virtual", "target": 0.9,
 * "targetLoss": 0.4, "lossWindow": 20 }`.
 *
 * @module
 */

import { basename, join } from "node:path";
import { loadPlan } from "../runtime/load_plan.ts";
import { run } from "../runtime/coordinator/run.ts";
import type { EvalLine, MetricsLine, StepLine } from "../runtime/metrics.ts";
import type { RunSummary } from "../runtime/run_types.ts";
import { exampleFiles } from "./examples_command.ts";
import { CliInputError } from "./errors.ts";
import { formatBytes, table } from "./format.ts";
import { withInterrupt } from "./interrupt.ts";
import { ProgressBar } from "./progress_bar.ts";

/** `experiment.json`. */
export interface ExperimentSettings {
  readonly title?: string;
  readonly transport?: "tcp" | "memory";
  readonly clock?: "real" | "virtual";
  /** The test accuracy whose first reaching is timed. */
  readonly target?: number;
  /** The training loss whose first reaching is counted in uploads. */
  readonly targetLoss?: number;
  /** Steps the training loss is averaged over (trailing window, default 20). */
  readonly lossWindow?: number;
}

/** Default trailing window of the training loss, in steps. */
export const LOSS_WINDOW = 20;

/** One run's numbers in the experiment's table. */
export interface ExperimentRow {
  readonly name: string;
  readonly algorithm: string;
  readonly finalAccuracy: number | null;
  readonly bestAccuracy: number | null;
  /** Mean bytes a worker sent per step for training (phases base, outer, compressed). */
  readonly trainingBytesPerStep: number;
  /** Simulated time of the run (virtual clock), else the slowest worker's training time, ms. */
  readonly timeMs: number;
  /** When the averaged model first reached the target accuracy, ms; `null`: never or no target. */
  readonly timeToTargetMs: number | null;
  /** Mean over workers of `‖x_i − x̄‖₂` at the last evaluation; `null` for exact averaging. */
  readonly consensusDistance: number | null;
  /**
   * Uploads all workers sent: counted per step where the algorithm decides (`cada`), else one
   * per worker per step, as distributed SGD or Adam sends.
   */
  readonly uploads: number;
  /** The share of possible uploads skipped. */
  readonly skipRate: number;
  /**
   * Uploads sent up to the first step whose training loss (mean over workers and over a
   * trailing window of steps) reached the target loss; `null`: never, or no target.
   */
  readonly uploadsToTargetLoss: number | null;
}

/** Options of {@linkcode experimentRow}. */
export interface RowTargets {
  /** The accuracy to time. */
  readonly target: number | null;
  /** The training loss to count uploads to. */
  readonly targetLoss?: number | null;
  /** Steps the training loss is averaged over. */
  readonly lossWindow?: number;
}

/**
 * Per step: the uploads sent so far by all workers, and the training loss averaged over
 * workers and over the trailing `window` steps.
 */
function lossAndUploads(
  steps: readonly StepLine[],
  workers: number,
  window: number,
): { uploads: number; loss: number }[] {
  const byStep = new Map<number, StepLine[]>();
  for (const line of steps) byStep.set(line.step, [...byStep.get(line.step) ?? [], line]);
  const out: { uploads: number; loss: number }[] = [];
  const losses: number[] = [];
  let uploads = 0;
  for (const step of [...byStep.keys()].sort((a, b) => a - b)) {
    const lines = byStep.get(step)!;
    if (lines.length < workers) break;
    for (const line of lines) {
      const uploaded = line.algorithm?.uploaded;
      if (uploaded !== false) uploads++;
    }
    losses.push(lines.reduce((sum, line) => sum + line.loss, 0) / lines.length);
    const recent = losses.slice(-window);
    out.push({ uploads, loss: recent.reduce((a, b) => a + b, 0) / recent.length });
  }
  return out;
}

/**
 * Computes a run's row from its metrics lines and summary.
 *
 * @param name The pipeline's name.
 * @param lines Every line of the run's `metrics.jsonl`.
 * @param summary The run's `summary.json`.
 * @param targets The accuracy to time and the training loss to count uploads to, if any.
 * @returns The row.
 */
export function experimentRow(
  name: string,
  lines: readonly MetricsLine[],
  summary: RunSummary,
  targets: RowTargets,
): ExperimentRow {
  const { target, targetLoss = null, lossWindow = LOSS_WINDOW } = targets;
  const steps = lines.filter((line): line is StepLine => line.type === "step");
  const evals = lines.filter((line): line is EvalLine => line.type === "eval");
  const averages = evals.filter((line) => line.model === "average");
  const virtual = summary.virtualTimeMs !== null;
  /** The time the slowest worker finished step `k`. */
  const timeAt = (k: number) =>
    Math.max(
      ...steps.filter((line) => line.step === k).map((line) =>
        virtual ? line.virtualMs ?? 0 : line.elapsedMs
      ),
    );
  const accuracies = averages.map((line) => line.testAccuracy ?? Number.NaN);
  const reached = target === null
    ? undefined
    : averages.find((line) => (line.testAccuracy ?? -1) >= target);
  const lastEval = evals.at(-1)?.step;
  const distances = evals.filter((line) =>
    line.model === "worker" && line.step === lastEval && line.distanceToAverage !== undefined
  ).map((line) => line.distanceToAverage!);
  const progress = lossAndUploads(steps, summary.workers, lossWindow);
  const lossReached = targetLoss === null
    ? undefined
    : progress.find((point) => point.loss <= targetLoss);
  const possible = summary.workers * summary.steps;
  const uploads = summary.uploads === null ? possible : possible - summary.uploads.roundsSaved;
  const training = summary.bytes.reduce(
    (sum, worker) => sum + worker.sent.base + worker.sent.outer + worker.sent.compressed,
    0,
  );
  return {
    name,
    algorithm: `${summary.algorithm} ×${summary.workers}`,
    finalAccuracy: summary.final?.testAccuracy ?? null,
    bestAccuracy: accuracies.length === 0 ? null : Math.max(...accuracies),
    trainingBytesPerStep: training / Math.max(1, summary.workers) / summary.steps,
    timeMs: virtual ? summary.virtualTimeMs! : timeAt(summary.steps - 1),
    timeToTargetMs: reached === undefined ? null : timeAt(reached.step),
    consensusDistance: distances.length === 0
      ? null
      : distances.reduce((a, b) => a + b, 0) / distances.length,
    uploads,
    skipRate: summary.uploads?.skipRate ?? 0,
    uploadsToTargetLoss: lossReached?.uploads ?? null,
  };
}

/** Renders the experiment's table. */
export function experimentTable(
  rows: readonly ExperimentRow[],
  settings: ExperimentSettings,
): string {
  const percent = (value: number | null) => value === null ? "-" : `${(100 * value).toFixed(2)}%`;
  const seconds = (ms: number | null) => ms === null ? "-" : `${(ms / 1000).toFixed(2)} s`;
  const clock = settings.clock === "virtual" ? "simulated time" : "training time";
  // Uploads matter where some are skipped, or where the experiment counts them to a loss.
  const showUploads = settings.targetLoss !== undefined || rows.some((row) => row.skipRate > 0);
  const lossTarget = settings.targetLoss !== undefined;
  return table(
    [
      "pipeline",
      "algorithm",
      "final accuracy",
      "best accuracy",
      "training bytes/worker/step",
      clock,
      ...(settings.target === undefined ? [] : [`time to ${percent(settings.target)}`]),
      ...(showUploads ? ["uploads (skipped)"] : []),
      ...(lossTarget ? [`uploads to training loss ${settings.targetLoss}`] : []),
      "consensus distance",
    ],
    rows.map((row) => [
      row.name,
      row.algorithm,
      percent(row.finalAccuracy),
      percent(row.bestAccuracy),
      formatBytes(row.trainingBytesPerStep),
      seconds(row.timeMs),
      ...(settings.target === undefined ? [] : [seconds(row.timeToTargetMs)]),
      ...(showUploads ? [`${row.uploads} (${(100 * row.skipRate).toFixed(1)}%)`] : []),
      ...(lossTarget
        ? [row.uploadsToTargetLoss === null ? "-" : `${row.uploadsToTargetLoss}`]
        : []),
      row.consensusDistance === null ? "-" : row.consensusDistance.toFixed(4),
    ]),
  );
}

/** What each key of `experiment.json` must hold, in words, and the check. */
const SETTING_CHECKS: Readonly<
  Record<keyof ExperimentSettings, { expected: string; ok: (value: unknown) => boolean }>
> = {
  title: { expected: "a string", ok: (value) => typeof value === "string" },
  transport: {
    expected: '"tcp" or "memory"',
    ok: (value) => value === "tcp" || value === "memory",
  },
  clock: {
    expected: '"real" or "virtual"',
    ok: (value) => value === "real" || value === "virtual",
  },
  target: {
    expected: "an accuracy in (0, 1]",
    ok: (value) => typeof value === "number" && value > 0 && value <= 1,
  },
  targetLoss: {
    expected: "a positive number",
    ok: (value) => typeof value === "number" && value > 0 && Number.isFinite(value),
  },
  lossWindow: {
    expected: "a positive integer",
    ok: (value) => Number.isInteger(value) && (value as number) >= 1,
  },
};

/** The keys `experiment.json` may hold. */
export const EXPERIMENT_KEYS: readonly string[] = Object.keys(SETTING_CHECKS);

/**
 * Checks the settings of `experiment.json`.
 *
 * @param value The parsed JSON.
 * @param path The file, for messages.
 * @returns The settings.
 * @throws {CliInputError} Naming the file and the key, for an unknown key or a wrong value.
 */
export function parseSettings(value: unknown, path: string): ExperimentSettings {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CliInputError(`${path}: expected a JSON object`);
  }
  for (const [key, setting] of Object.entries(value)) {
    const check = SETTING_CHECKS[key as keyof ExperimentSettings];
    if (check === undefined) {
      throw new CliInputError(
        `${path}: unknown key "${key}" (known: ${EXPERIMENT_KEYS.join(", ")})`,
      );
    }
    if (!check.ok(setting)) {
      throw new CliInputError(
        `${path}: "${key}" must be ${check.expected}, got ${JSON.stringify(setting)}`,
      );
    }
  }
  return value as ExperimentSettings;
}

/** Reads `experiment.json`, if the folder has one. */
async function readSettings(folder: string): Promise<ExperimentSettings> {
  const path = join(folder, "experiment.json");
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw new CliInputError(`Cannot read ${path}: ${error}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliInputError(`Cannot read ${path}: invalid JSON: ${(error as Error).message}`);
  }
  return parseSettings(value, path);
}

/** Options of `gossamer experiment`. */
export interface ExperimentOptions {
  /** Parent folder of the runs (default `runs/experiment-<name>-<time>`). */
  readonly out?: string;
  readonly quiet?: boolean;
}

/**
 * Runs `gossamer experiment`.
 *
 * @param folder The experiment folder.
 * @param options Output folder and quietness.
 */
export async function experimentCommand(
  folder: string,
  options: ExperimentOptions = {},
): Promise<void> {
  let files: string[];
  try {
    files = (await exampleFiles(new URL(`file://${await Deno.realPath(folder)}/`)))
      .filter((file) => basename(file) !== "experiment.json");
  } catch {
    throw new CliInputError(`Cannot read experiment folder "${folder}"`);
  }
  if (files.length === 0) throw new CliInputError(`Experiment folder "${folder}" has no pipelines`);
  const settings = await readSettings(folder);
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const parent = options.out ?? join("runs", `experiment-${basename(folder)}-${stamp}`);
  if (!options.quiet && settings.title) console.log(settings.title);
  const rows: ExperimentRow[] = [];
  for (const file of files) {
    const name = basename(file).replace(/\.(ts|json)$/, "");
    const plan = await loadPlan(file);
    const out = join(parent, name);
    if (!options.quiet) {
      console.log(`Running ${name}: ${plan.workers} workers, ${plan.steps} steps`);
    }
    const bar = new ProgressBar(!options.quiet);
    try {
      const result = await withInterrupt((signal) =>
        run(plan, {
          out,
          signal,
          ...(settings.transport === undefined ? {} : { transport: settings.transport }),
          ...(settings.clock === undefined ? {} : { clock: settings.clock }),
          onProgress: (progress) => bar.update(progress),
        })
      );
      const text = await Deno.readTextFile(join(out, "metrics.jsonl"));
      const lines = text.trim().split("\n").map((line) => JSON.parse(line) as MetricsLine);
      rows.push(experimentRow(name, lines, result.summary, {
        target: settings.target ?? null,
        targetLoss: settings.targetLoss ?? null,
        lossWindow: settings.lossWindow ?? LOSS_WINDOW,
      }));
    } finally {
      bar.done();
    }
  }
  console.log(`\n${experimentTable(rows, settings)}`);
  console.log(`\nRun folders: ${parent}/<pipeline>`);
}
