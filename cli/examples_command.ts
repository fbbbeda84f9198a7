/**
 * `gossamer examples [folder] [--smoke]`: compiles every example pipeline, compares what each
 * would send and says what each needs; `--smoke` also runs each for a few steps.
 *
 * @module
 */

import { commandName } from "./command_name.ts";
import { basename, join } from "node:path";
import { algorithmKinds, explainPlan } from "../dsl/explain.ts";
import type { Plan } from "../dsl/plan.ts";
import { tensorsFiles } from "../dsl/data/tensors.ts";
import { parsePlan } from "../dsl/validate.ts";
import { run } from "../runtime/coordinator/run.ts";
import { CliInputError, CommandFailedError } from "./errors.ts";
import { loadPlan } from "../runtime/load_plan.ts";
import { totalBytes } from "../dsl/traffic.ts";
import { unsupportedNodes } from "../runtime/support.ts";
import { formatBytes, table } from "../report/format.ts";
import { messageOf } from "../runtime/errors.ts";

/** The examples folder. */
const EXAMPLES = new URL("../examples/", import.meta.url);

/** Files of an example folder that are not pipelines: an experiment's settings and checks. */
const NOT_PIPELINES = ["experiment.json", "expect.ts"];

/**
 * Lists the example inputs: every `.ts` pipeline module and `.json` plan in a folder (not an
 * experiment's `experiment.json` or `expect.ts`).
 *
 * @param folder A folder URL (default: `examples/`).
 * @returns Paths, sorted.
 */
export async function exampleFiles(folder: URL = EXAMPLES): Promise<string[]> {
  const path = decodeURIComponent(folder.pathname);
  const files: string[] = [];
  for await (const entry of Deno.readDir(path)) {
    if (!entry.isFile || NOT_PIPELINES.includes(entry.name)) continue;
    if (/\.(ts|json)$/.test(entry.name)) files.push(join(path, entry.name));
  }
  return files.sort();
}

/**
 * What running an example needs beyond gossamer itself, read from its plan so the column cannot
 * drift from the examples: the data (embedded, generated or a file), a model module, and for
 * runs of many workers the in-process transport and simulated clock.
 *
 * @param plan The example's plan.
 * @returns The needs, in words.
 */
export function exampleNeeds(plan: Plan): string {
  const needs = [
    plan.data.kind === "mnist"
      ? "embedded MNIST"
      : plan.data.kind === "synthetic"
      ? "generated data"
      : plan.data.kind === "text"
      ? plan.data.file === null
        ? "embedded Moby-Dick text"
        : `text file ${basename(plan.data.file)}`
      : plan.data.kind === "tensors"
      ? `array file ${basename(tensorsFiles(plan.data)[0]!)}`
      : `shard file ${basename(plan.data.file)}`,
  ];
  if (plan.model.kind === "custom") needs.push(`model module ${basename(plan.model.module)}`);
  if (plan.workers > MANY_WORKERS) needs.push("--transport memory --clock virtual");
  else if (plan.network !== null) needs.push("a declared network (tcp, or --clock virtual)");
  return needs.join("; ");
}

/** Beyond this many workers, threads and sockets for each would swamp one machine. */
const MANY_WORKERS = 32;

/**
 * The fewest steps an example can run and still do what it does: at least 2, and one full
 * period of its base and outer algorithms (a shorter run would be refused by the validator).
 */
function smokeSteps(plan: Plan): number {
  const base = "tau" in plan.base ? plan.base.tau : 1;
  return Math.max(2, base, plan.outer?.tau ?? 1);
}

/**
 * Runs an example briefly in this process: its first few steps over the memory transport (on
 * the simulated clock when it declares a network), into a temporary folder.
 *
 * @param plan The example's plan.
 * @returns The steps run.
 * @throws {Error} When the run fails, with the run's own message.
 */
async function smokeRun(plan: Plan): Promise<number> {
  const steps = smokeSteps(plan);
  const brief = parsePlan({ ...plan, steps, evalEvery: steps }, "the example, shortened");
  const folder = await Deno.makeTempDir({ prefix: "gossamer_smoke_" });
  try {
    await run(brief, {
      out: join(folder, "run"),
      transport: "memory",
      clock: plan.network === null ? "real" : "virtual",
    });
    return steps;
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

/** Options of `gossamer examples`. */
export interface ExamplesOptions {
  /** Also run each example for a few steps. */
  readonly smoke?: boolean;
}

/**
 * Runs `gossamer examples`: compiles and explains every example of a folder, and with `smoke`
 * runs each one for a few steps.
 *
 * @param folder The examples folder (default `examples/`).
 * @param options Whether to run them.
 * @throws {CommandFailedError} When a smoke run fails (after trying them all).
 */
export async function examplesCommand(
  folder?: string,
  options: ExamplesOptions = {},
): Promise<void> {
  const url = folder === undefined ? EXAMPLES : new URL(`file://${await realFolder(folder)}/`);
  const rows: string[][] = [];
  const failures: string[] = [];
  for (const file of await exampleFiles(url)) {
    const plan = await loadPlan(file);
    const explanation = explainPlan(plan);
    const bytes = explanation.bytesPerStep;
    const total = bytes === null ? null : totalBytes(bytes);
    const reference = explanation.allReduceBytesPerStep;
    const algorithm = algorithmKinds(plan).join(" + ");
    const problems = unsupportedNodes(plan);
    let status = problems.length === 0 ? "yes" : `not yet (${problems.join("; ")})`;
    if (options.smoke && problems.length === 0) {
      const start = performance.now();
      try {
        const steps = await smokeRun(plan);
        status = `ran ${steps} steps in ${((performance.now() - start) / 1000).toFixed(1)} s`;
      } catch (error) {
        status = "FAILED";
        failures.push(`${basename(file)}: ${messageOf(error)}`);
      }
    }
    rows.push([
      basename(file),
      `${algorithm} ×${plan.workers}`,
      explanation.parameters?.toLocaleString("en-US") ?? "?",
      total === null ? "?" : formatBytes(total),
      total === null || !reference ? "-" : `${(total / reference).toFixed(3)}×`,
      explanation.syncPeriod === null ? "never exact" : String(explanation.syncPeriod),
      exampleNeeds(plan),
      status,
    ]);
  }
  console.log(
    `Example pipelines, compiled and validated${options.smoke ? ", and run briefly" : ""}\n`,
  );
  console.log(
    table(
      [
        "example",
        "algorithm",
        "parameters",
        "bytes/worker/step",
        "vs all-reduce",
        "sync every",
        "needs",
        options.smoke ? "smoke run" : "runs",
      ],
      rows,
    ),
  );
  console.log(`\n${rows.length} plans valid. ${await nextSteps(folder, options)}`);
  if (failures.length > 0) {
    throw new CommandFailedError(`${failures.length} examples failed:\n${failures.join("\n")}`);
  }
}

/** A folder's real path, or a message naming it. */
async function realFolder(folder: string): Promise<string> {
  try {
    return await Deno.realPath(folder);
  } catch {
    // `gossamer examples exp` is most likely `gossamer experiments` cut short.
    const meant = folder.length >= 3 && "experiments".startsWith(folder)
      ? " (to run the experiments of examples/experiments/: deno task gossamer experiments)"
      : "";
    throw new CliInputError(`Cannot read examples folder "${folder}"${meant}`);
  }
}

/**
 * What to do next with the pipelines listed, naming the folder as it was given: run one, run
 * them briefly, and, for a folder that is an experiment (it has `experiment.json`), run it whole.
 */
async function nextSteps(folder: string | undefined, options: ExamplesOptions): Promise<string> {
  const where = folder === undefined ? "examples" : folder.replace(/\/+$/, "");
  const smoke = folder === undefined ? "examples --smoke" : `examples ${where} --smoke`;
  const steps = [`Run one with: ${commandName()} run ${where}/<file>`];
  if (!options.smoke) steps.push(`try them all briefly with: ${commandName()} ${smoke}`);
  const experiment = await Deno.stat(join(where, "experiment.json")).then(() => true, () => false);
  if (experiment) {
    steps.push(`run the experiment and compare: ${commandName()} experiment ${where}`);
  }
  return steps.join("; ");
}
