/**
 * `gossamer experiment <folder>`: runs every pipeline of an experiment folder with the same
 * options and prints one table comparing them: accuracy, training bytes per worker per step,
 * time (simulated on the virtual clock, else the workers' own training time), time to a target
 * accuracy (for language models, to a target validation bits per token, with the bytes each
 * worker sent in all), uploads (for algorithms that skip some, and how many it took to reach a
 * target training loss) and, for decentralized bases, the consensus distance.
 *
 * An experiment folder holds pipeline modules (and plan files) and optionally `experiment.json`:
 * `{ "title": "…", "transport": "memory" | "tcp", "clock": "real" | "virtual", "target": 0.9,
 * "targetLoss": 0.4, "targetBits": 3.2, "lossWindow": 20 }`.
 *
 * @module
 */

import { basename, join } from "node:path";
import { loadPlan } from "../runtime/load_plan.ts";
import { run } from "../runtime/coordinator/run.ts";
import type { MetricsLine } from "../runtime/metrics.ts";
import { type ExperimentRow, experimentRow, LOSS_WINDOW } from "../report/experiment_row.ts";
import { exampleFiles } from "./examples_command.ts";
import { CliInputError, CommandFailedError } from "./errors.ts";
import { buildReport } from "../report/mod.ts";
import { check, evaluate, type Expectations } from "../report/expectations.ts";
import { writeFileAtomic } from "./write_file.ts";
import { formatBytes, table } from "../report/format.ts";
import { withInterrupt } from "./interrupt.ts";
import { ProgressBar } from "./progress_bar.ts";
import { messageOf } from "../runtime/errors.ts";

/** `experiment.json`. */
export interface ExperimentSettings {
  readonly title?: string;
  readonly transport?: "tcp" | "memory";
  readonly clock?: "real" | "virtual";
  /** The test accuracy whose first reaching is timed. */
  readonly target?: number;
  /** The training loss whose first reaching is counted in uploads. */
  readonly targetLoss?: number;
  /** Language models: the validation bits per token whose first reaching is timed. */
  readonly targetBits?: number;
  /** Steps the training loss is averaged over (trailing window, default 20). */
  readonly lossWindow?: number;
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
  const language = rows.some((row) => row.finalBitsPerToken !== null);
  const peaks = rows.some((row) => row.peakSyncBytes !== null);
  return table(
    [
      "pipeline",
      "algorithm",
      ...(language ? ["final bits/token"] : []),
      "final accuracy",
      "best accuracy",
      "training bytes/worker/step",
      ...(language ? ["training bytes/worker"] : []),
      ...(peaks ? ["peak sync/worker"] : []),
      clock,
      ...(settings.target === undefined ? [] : [`time to ${percent(settings.target)}`]),
      ...(settings.targetBits === undefined ? [] : [`time to ${settings.targetBits} bits/token`]),
      ...(showUploads ? ["uploads (skipped)"] : []),
      ...(lossTarget ? [`uploads to training loss ${settings.targetLoss}`] : []),
      "consensus distance",
    ],
    rows.map((row) => [
      row.name,
      row.algorithm,
      ...(language ? [row.finalBitsPerToken?.toFixed(3) ?? "-"] : []),
      percent(row.finalAccuracy),
      percent(row.bestAccuracy),
      formatBytes(row.trainingBytesPerStep),
      ...(language ? [formatBytes(row.trainingBytes)] : []),
      ...(peaks ? [row.peakSyncBytes === null ? "-" : formatBytes(row.peakSyncBytes)] : []),
      seconds(row.timeMs),
      ...(settings.target === undefined ? [] : [seconds(row.timeToTargetMs)]),
      ...(settings.targetBits === undefined ? [] : [seconds(row.timeToTargetBitsMs)]),
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
  targetBits: {
    expected: "a positive number of bits per token",
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
    throw new CliInputError(`Cannot read ${path}: invalid JSON: ${messageOf(error)}`);
  }
  return parseSettings(value, path);
}

/** Options of `gossamer experiment`. */
export interface ExperimentOptions {
  /** Parent folder of the runs (default `runs/experiment-<name>-<time>`). */
  readonly out?: string;
  readonly quiet?: boolean;
}

/** What running an experiment folder produced. */
export interface ExperimentResult {
  readonly settings: ExperimentSettings;
  /** One row per pipeline, in file order. */
  readonly rows: readonly ExperimentRow[];
  /** The run folders, in the same order. */
  readonly runFolders: readonly string[];
  /** Their parent folder. */
  readonly parent: string;
}

/** A timestamp for folder names: `20261129-140512`. */
function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
}

/**
 * Runs every pipeline of an experiment folder with its settings, one after the other.
 *
 * @param folder The experiment folder.
 * @param options Output folder and quietness.
 * @returns The rows and run folders.
 * @throws {CliInputError} When the folder or its `experiment.json` cannot be read.
 */
export async function runExperiment(
  folder: string,
  options: ExperimentOptions = {},
): Promise<ExperimentResult> {
  let files: string[];
  try {
    files = await exampleFiles(new URL(`file://${await Deno.realPath(folder)}/`));
  } catch {
    throw new CliInputError(`Cannot read experiment folder "${folder}"`);
  }
  if (files.length === 0) throw new CliInputError(`Experiment folder "${folder}" has no pipelines`);
  const settings = await readSettings(folder);
  const parent = options.out ?? join("runs", `experiment-${basename(folder)}-${stamp()}`);
  if (!options.quiet && settings.title) console.log(settings.title);
  const rows: ExperimentRow[] = [];
  const runFolders: string[] = [];
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
          limitThreadPermissions: true,
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
        targetBits: settings.targetBits ?? null,
        lossWindow: settings.lossWindow ?? LOSS_WINDOW,
      }));
      runFolders.push(out);
    } finally {
      bar.done();
    }
  }
  return { settings, rows, runFolders, parent };
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
  const { settings, rows, parent } = await runExperiment(folder, options);
  console.log(`\n${experimentTable(rows, settings)}`);
  console.log(`\nRun folders: ${parent}/<pipeline>`);
}

/** The experiments of `examples/experiments/`. */
const EXPERIMENTS = new URL("../examples/experiments/", import.meta.url);

/** Options of `gossamer experiments`. */
export interface ExperimentsOptions {
  /** Run only these experiments (folder names). */
  readonly only?: readonly string[];
  /** Parent folder of every experiment's runs and report (default `runs/experiments-<time>`). */
  readonly out?: string;
  readonly quiet?: boolean;
}

/**
 * Runs `gossamer experiments`: every experiment of `examples/experiments/` (or the chosen
 * ones), checks each against its `expect.ts`, prints PASS or FAIL with the measured numbers,
 * and writes one report per experiment.
 *
 * @param options Which experiments, where.
 * @throws {CommandFailedError} When a check fails (after running everything).
 */
export async function experimentsCommand(options: ExperimentsOptions = {}): Promise<void> {
  const root = decodeURIComponent(EXPERIMENTS.pathname);
  const names: string[] = [];
  for await (const entry of Deno.readDir(root)) if (entry.isDirectory) names.push(entry.name);
  names.sort();
  const unknown = (options.only ?? []).filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    throw new CliInputError(
      `No experiment named ${unknown.join(", ")} (have ${names.join(", ")})`,
    );
  }
  const chosen = options.only === undefined
    ? names
    : names.filter((n) => options.only!.includes(n));
  const parent = options.out ?? join("runs", `experiments-${stamp()}`);
  const lines: string[] = [];
  let passed = 0;
  let failed = 0;
  for (const name of chosen) {
    const folder = join(root, name);
    const result = await runExperiment(folder, {
      out: join(parent, name),
      quiet: options.quiet ?? false,
    });
    const report = await buildReport(result.runFolders, {
      target: result.settings.target ?? null,
      title: result.settings.title ?? name,
    });
    const reportPath = join(parent, name, "report.html");
    await writeFileAtomic(reportPath, report.html);
    const checks = evaluate(
      await loadExpectations(folder),
      Object.fromEntries(result.rows.map((row) => [row.name, row])),
    );
    const block = [
      `${name}: ${result.settings.title ?? ""}`.trim(),
      experimentTable(result.rows, result.settings),
      ...checks.map((c) => `${c.pass ? "PASS" : "FAIL"}  ${c.claim}: ${c.measured}`),
      `report ${reportPath}`,
    ].join("\n");
    passed += checks.filter((c) => c.pass).length;
    failed += checks.filter((c) => !c.pass).length;
    lines.push(block);
    if (!options.quiet) console.log(`\n${block}`);
  }
  const summary = `${passed} checks passed, ${failed} failed; runs and reports in ${parent}`;
  if (options.quiet) console.log(lines.join("\n\n"));
  console.log(`\n${summary}`);
  if (failed > 0) throw new CommandFailedError(`${failed} experiment checks failed`);
}

/** An experiment's `expect.ts`, or no checks when it has none. */
async function loadExpectations(folder: string): Promise<Expectations> {
  const path = join(folder, "expect.ts");
  try {
    await Deno.stat(path);
  } catch {
    return () => [];
  }
  const module = await import(new URL(`file://${path}`).href) as { default?: Expectations };
  if (typeof module.default !== "function") {
    return () => [check(`${path} exports its expectations`, false, "no default function")];
  }
  return module.default;
}
