/**
 * Reads a run folder (`plan.json`, `metrics.jsonl`, `summary.json`, `params.json`) into the
 * typed data every report, table and dashboard view is computed from, and that a script or
 * notebook analyses ({@linkcode readRun}). A run that is still training has no
 * `summary.json` yet and may be writing its last metrics line, so a partial final line is
 * skipped rather than treated as corrupt.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import type { Plan } from "../dsl/plan.ts";
import type {
  EvalLine,
  MembershipLine,
  MetricsLine,
  StepLine,
  TrafficLine,
} from "../runtime/metrics.ts";
import type { RunParams, RunSummary } from "../runtime/run_types.ts";
import { messageOf } from "../runtime/errors.ts";
import { isBeingWritten } from "../runtime/coordinator/run_folder.ts";
import { type LatestLines, latestLines } from "./membership.ts";

/**
 * Where a run stands: finished, failed, still writing (no `summary.json` yet and a live process
 * holds the folder's lock), or stopped (no summary and no live writer: killed, or its disk
 * filled before the summary could be written).
 */
export type RunStatus = "completed" | "failed" | "running" | "stopped";

/** One run folder, read. */
export interface RunData {
  /** The folder's absolute path. */
  readonly folder: string;
  /** The folder's name, the run's label in tables and legends. */
  readonly name: string;
  /** The plan the run executed. */
  readonly plan: Plan;
  /** `summary.json`; `null` while the run is still training. */
  readonly summary: RunSummary | null;

  /** Where the run stands. */
  readonly status: RunStatus;
  /** Every step line, in file order. */
  readonly steps: readonly StepLine[];
  /** Every evaluation line, in file order. */
  readonly evals: readonly EvalLine[];
  /** Every traffic line (evaluation and final barrier bytes). */
  readonly traffic: readonly TrafficLine[];
  /** Every membership change of an elastic run, in file order (absent or empty otherwise). */
  readonly membership?: readonly MembershipLine[];
  /**
   * The step and evaluation lines the curves draw ({@linkcode latestLines}): without the
   * attempts a lost worker's rewind abandoned. Absent in data made by hand, whose lines then
   * all count.
   */
  readonly latest?: LatestLines;
}

/** A run folder as {@linkcode readRun} reads it: its data, every metrics line and its parameters. */
export interface RunRecord extends RunData {
  /** `params.json`, the final parameters; `null` until the run has completed. */
  readonly params: RunParams | null;
  /** Every line of `metrics.jsonl`, in file order. */
  readonly metrics: readonly MetricsLine[];
}

/** A run folder that cannot be read; the message names the folder and the file. */
export class RunDataError extends Error {
  /**
   * Builds the error.
   *
   * @param message What is wrong, naming the folder and file.
   */
  constructor(message: string) {
    super(message);
    this.name = "RunDataError";
  }
}

/**
 * Parses the text of `metrics.jsonl`. Lines that are not complete JSON are skipped only at the
 * end of the text (a line being written); anywhere else they are an error.
 *
 * @param text The file's text.
 * @param where The file, for messages.
 * @returns The lines.
 * @throws {RunDataError} When a line before the last is not JSON.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseMetrics } from "./run_data.ts";
 *
 * const text = '{"type":"eval","step":0,"model":"average","worker":null,"testLoss":1,' +
 *   '"testAccuracy":0.5}\n{"type":"st';
 * assert.equal(parseMetrics(text, "m.jsonl").length, 1);
 * ```
 */
export function parseMetrics(text: string, where: string): MetricsLine[] {
  const lines = text.split("\n");
  const out: MetricsLine[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.trim() === "") continue;
    try {
      out.push(JSON.parse(line) as MetricsLine);
    } catch {
      if (index === lines.length - 1) break;
      throw new RunDataError(`${where}: line ${index + 1} is not JSON`);
    }
  }
  return out;
}

/**
 * Whether a line is a membership change that can be drawn: a damaged one (no `left` or
 * `members` list, no step) is left out of the membership rather than failing the whole page.
 */
function isMembershipLine(line: MetricsLine): line is MembershipLine {
  return line.type === "membership" && typeof line.step === "number" &&
    Array.isArray(line.left) && Array.isArray(line.members);
}

/** Reads a JSON file of the run, or `null` when it does not exist. */
async function readJson<T>(path: string): Promise<T | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw new RunDataError(`Cannot read ${path}: ${messageOf(error)}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    // summary.json is written atomically, so this is a damaged file, not one being written.
    throw new RunDataError(`${path} is not valid JSON`);
  }
}

/**
 * Reads a run folder, finished or still training, for a report or for analysis in a script or
 * notebook: the plan, the summary, the final parameters and every metrics line.
 *
 * @param folder The run folder (it holds `plan.json`).
 * @returns The run's plan, summary, parameters and metrics.
 * @throws {RunDataError} When the folder is not a run folder or a file is damaged.
 * @example Run a plan, then read its folder back
 * ```ts
 * import assert from "node:assert/strict";
 * import { allReduce, leastSquares, linear, readRun, run, sgd, train } from "../mod.ts";
 *
 * const plan = train(linear({ dim: 3 }))
 *   .data(leastSquares({ file: new URL("../examples/data/least_squares_4.json", import.meta.url) }))
 *   .workers(4).optimizer(sgd({ lr: 0.05 })).base(allReduce()).steps(5).compile();
 * const out = await Deno.makeTempDir();
 * const result = await run(plan, { transport: "memory", out: `${out}/run` });
 * const read = await readRun(result.folder);
 * assert.deepEqual(read.plan, plan);
 * assert.deepEqual(read.summary, result.summary);
 * assert.deepEqual(read.params, result.params);
 * assert.equal(read.steps.length, 4 * 5); // a step line per worker per step
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function readRun(folder: string): Promise<RunRecord> {
  const path = resolve(folder);
  const plan = await readJson<Plan>(join(path, "plan.json"));
  if (plan === null) {
    throw new RunDataError(`${folder} is not a run folder: it has no plan.json`);
  }
  const summary = await readJson<RunSummary>(join(path, "summary.json"));
  let text = "";
  try {
    text = await Deno.readTextFile(join(path, "metrics.jsonl"));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new RunDataError(`Cannot read ${join(folder, "metrics.jsonl")}: ${error}`);
    }
  }
  const lines = parseMetrics(text, join(folder, "metrics.jsonl"));
  const params = await readJson<RunParams>(join(path, "params.json"));
  return {
    folder: path,
    name: basename(path),
    plan,
    summary,
    params,
    metrics: lines,
    status: summary?.status ?? (await isBeingWritten(path) ? "running" : "stopped"),
    steps: lines.filter((line): line is StepLine => line.type === "step"),
    evals: lines.filter((line): line is EvalLine => line.type === "eval"),
    traffic: lines.filter((line): line is TrafficLine => line.type === "traffic"),
    membership: lines.filter(isMembershipLine),
    latest: latestLines(lines),
  };
}
