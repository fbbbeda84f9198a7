/**
 * `gossamer slurm <pipeline.ts|plan.json> --nodes N --tasks-per-node K …`: writes a Slurm batch
 * script that runs the plan with one worker per task, or `--local-workers K` thread workers per
 * task (see `slurm_script.ts`), and with `--submit` submits it.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { checkSlurmValue, shellQuote, slurmScript } from "./slurm_script.ts";
import { fileStem, loadClusterPlan, portablePlanJson } from "./cluster_plan.ts";
import { CliInputError, CommandFailedError } from "./errors.ts";
import { writeNewFile } from "./write_file.ts";
import { messageOf } from "../runtime/errors.ts";

/** Options of `gossamer slurm`. */
export interface SlurmCommandOptions {
  readonly nodes: number;
  readonly tasksPerNode: number;
  /** Workers per task, run as threads that share memory (default 1). */
  readonly localWorkers?: number;
  /** Override the plan's workers; must equal nodes × tasks per node × local workers. */
  readonly workers?: number;
  readonly partition?: string;
  readonly time?: string;
  readonly account?: string;
  readonly jobName?: string;
  /** The script's file (default `<job name>.sbatch` in the working directory). */
  readonly out?: string;
  /** Replace `out` if it exists. */
  readonly force?: boolean;
  /** Submit the script with sbatch. */
  readonly submit?: boolean;
  /**
   * For an elastic plan: how often each task starts its failed worker again to rejoin the run
   * (default {@linkcode DEFAULT_RESTARTS}). Ignored otherwise.
   */
  readonly restarts?: number;
}

/** How often an elastic plan's task starts its failed worker again, unless `--restarts` says. */
export const DEFAULT_RESTARTS = 3;

/**
 * The `cli.ts` the generated script runs: this very one, as a path (on a cluster, a checkout on
 * the shared file system) or, when gossamer was run from a URL, that URL.
 */
function thisCli(): string {
  const url = new URL("../cli.ts", import.meta.url);
  return url.protocol === "file:" ? fileURLToPath(url) : url.href;
}

/**
 * A job name made from a file name: characters a job name may not hold become `-`.
 *
 * @param stem The pipeline's file name without extension.
 * @returns A valid job name.
 */
function jobNameFrom(stem: string): string {
  const name = stem.replace(/[^A-Za-z0-9_.-]/g, "-").replace(/^[.-]+/, "").slice(0, 128);
  return name === "" ? "gossamer" : name;
}

/**
 * Finds an executable on `PATH`, as the shell would.
 *
 * @param name The program.
 * @returns Its path, or `null` when no folder of `PATH` has it.
 */
async function findOnPath(name: string): Promise<string | null> {
  for (const folder of (Deno.env.get("PATH") ?? "").split(":")) {
    if (folder === "") continue;
    const candidate = `${folder}/${name}`;
    try {
      const info = await Deno.stat(candidate);
      if (info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0) return candidate;
    } catch {
      // Not in this folder.
    }
  }
  return null;
}

/** The command line that reproduces this script, for its header. */
function commandLine(input: string, options: SlurmCommandOptions, jobName: string): string {
  const words = [
    "gossamer slurm",
    shellQuote(input),
    `--nodes ${options.nodes}`,
    `--tasks-per-node ${options.tasksPerNode}`,
    ...(options.localWorkers === undefined ? [] : [`--local-workers ${options.localWorkers}`]),
    ...(options.workers === undefined ? [] : [`--workers ${options.workers}`]),
    ...(options.partition === undefined ? [] : [`--partition ${options.partition}`]),
    ...(options.time === undefined ? [] : [`--time ${options.time}`]),
    ...(options.account === undefined ? [] : [`--account ${options.account}`]),
    `--job-name ${jobName}`,
    ...(options.restarts === undefined ? [] : [`--restarts ${options.restarts}`]),
  ];
  return `Written by: ${words.join(" ")}`;
}

/**
 * Submits a script with `sbatch --parsable` from the working directory.
 *
 * @param sbatch The sbatch program.
 * @param file The script.
 * @returns The job id.
 * @throws {CommandFailedError} When sbatch fails or prints no job id.
 */
async function submit(sbatch: string, file: string): Promise<string> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(sbatch, {
      args: ["--parsable", file],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    throw new CommandFailedError(
      `Cannot run ${sbatch}: ${messageOf(error)}. The script is written: ${file}`,
    );
  }
  const decoder = new TextDecoder();
  const stdout = decoder.decode(output.stdout).trim();
  const stderr = decoder.decode(output.stderr).trim();
  // --parsable prints "<job id>" or "<job id>;<cluster>".
  const jobId = /^(\d+)(;\S+)?$/m.exec(stdout)?.[1];
  if (!output.success || jobId === undefined) {
    const said = [stderr, stdout].filter((text) => text !== "").join("\n") || "nothing";
    throw new CommandFailedError(
      `sbatch ${file} failed (exit code ${output.code}); it said: ${said}\n` +
        `The script is written: submit it with "sbatch ${file}" once the cause is fixed.`,
    );
  }
  return jobId;
}

/**
 * Runs `gossamer slurm`: checks every value, loads and validates the plan, checks that the
 * allocation starts exactly the plan's workers, writes the script (never over an existing file
 * without `force`), and submits it when asked. Nothing is written when a check fails.
 *
 * @param input A pipeline module or plan JSON file.
 * @param options The command's options.
 */
export async function slurmCommand(input: string, options: SlurmCommandOptions): Promise<void> {
  const jobName = options.jobName ?? jobNameFrom(fileStem(input));
  const problems = [
    checkSlurmValue("jobName", "--job-name", jobName),
    options.partition === undefined
      ? null
      : checkSlurmValue("partition", "--partition", options.partition),
    options.time === undefined ? null : checkSlurmValue("time", "--time", options.time),
    options.account === undefined ? null : checkSlurmValue("account", "--account", options.account),
  ].filter((problem) => problem !== null);
  if (problems.length > 0) throw new CliInputError(problems.join("\n"));

  const sbatch = options.submit ? await findOnPath("sbatch") : null;
  if (options.submit && sbatch === null) {
    throw new CliInputError(
      "Cannot submit: sbatch is not on PATH (run this on a Slurm login node, or drop --submit to only write the script)",
    );
  }

  const local = options.localWorkers ?? 1;
  const tasks = options.nodes * options.tasksPerNode;
  const workers = tasks * local;
  const shape = `--nodes ${options.nodes} × --tasks-per-node ${options.tasksPerNode}${
    local === 1 ? "" : ` × --local-workers ${local}`
  }`;
  const each = local === 1 ? "one worker each" : `${local} workers each`;
  if (options.workers !== undefined && options.workers !== workers) {
    throw new CliInputError(
      `--workers ${options.workers} does not match ${shape} = ${
        local === 1
          ? `${tasks} tasks: each task runs one worker`
          : `${workers} workers: ${tasks} tasks, ${each}`
      }`,
    );
  }
  const plan = await loadClusterPlan(input, options.workers);
  if (plan.workers !== workers) {
    throw new CliInputError(
      `${input} has ${plan.workers} workers but ${shape} start ${tasks} tasks, ${each}: ` +
        `choose ${
          local === 1 ? "nodes and tasks per node" : "nodes, tasks per node and local workers"
        } that multiply to ${plan.workers}, ` +
        `or pass --workers ${workers} to run the plan with ${workers} workers`,
    );
  }

  const file = options.out ?? `${jobName}.sbatch`;
  const script = slurmScript({
    jobName,
    nodes: options.nodes,
    tasksPerNode: options.tasksPerNode,
    ...(local === 1 ? {} : { localWorkers: local }),
    ...(options.partition === undefined ? {} : { partition: options.partition }),
    ...(options.time === undefined ? {} : { time: options.time }),
    ...(options.account === undefined ? {} : { account: options.account }),
    planJson: portablePlanJson(plan),
    cli: thisCli(),
    generatedBy: commandLine(input, options, jobName),
    scriptFile: file,
    ...(plan.elastic === null || plan.elastic === undefined ? {} : {
      // A worker that may not rejoin would only start a run of its own: no restarts then.
      elastic: { restarts: plan.elastic.rejoin ? options.restarts ?? DEFAULT_RESTARTS : 0 },
    }),
  });
  await writeNewFile(file, script, options.force ? { force: true } : {});
  console.log(
    `Wrote ${file}: ${workers} workers, ${shape}; submit it from this folder: sbatch ${file}`,
  );
  if (sbatch !== null) {
    const jobId = await submit(sbatch, file);
    console.log(
      `Submitted batch job ${jobId}: log ${jobName}-${jobId}.out, run folder runs/${jobName}-${jobId}`,
    );
  }
}
