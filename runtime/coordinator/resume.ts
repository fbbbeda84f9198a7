/**
 * Continues a run from one of its checkpoints: reads the run folder's plan and the checkpoint,
 * checks that the checkpoint belongs to the plan, and runs the rest of the steps (or more, when
 * asked), into the same folder or a new one. The result equals the uninterrupted run's bit for
 * bit: every worker restarts from exactly the state it had, and everything else (batches,
 * random draws, stragglers) is a function of the step.
 *
 * @module
 */

import { join } from "node:path";
import { parsePlan } from "../../dsl/validate.ts";
import { loadPlan } from "../load_plan.ts";
import type { RunOptions, RunResult } from "../run_types.ts";
import { RunError } from "../run_types.ts";
import type { Plan } from "../../dsl/plan.ts";
import {
  checkCheckpointPlan,
  type Checkpoint,
  CheckpointError,
  listCheckpoints,
  readCheckpoint,
} from "./checkpoints.ts";
import { run } from "./run.ts";

/** Options of {@linkcode resume}. */
export interface ResumeOptions extends Omit<RunOptions, "resume"> {
  /** The checkpoint to continue from, by the steps done when it was taken (default: the newest). */
  readonly from?: number;
  /**
   * When the newest checkpoint cannot be used (damaged, or not of this plan), continue from the
   * newest one that can instead of refusing (default: refuse, naming it).
   */
  readonly fallback?: boolean;
  /** Train up to this many steps in all (default: the plan's). */
  readonly steps?: number;
  /**
   * Told, before the run starts, which checkpoint it continues from and with which clock and
   * transport (so a command line can say so).
   */
  readonly onResuming?: (resuming: Resuming) => void;
}

/** What a resume continues from, and how. */
export interface Resuming {
  /** The steps done when the checkpoint was taken. */
  readonly step: number;
  /** The clock the rest of the run uses. */
  readonly clock: "real" | "virtual";
  /** The transport the rest of the run uses. */
  readonly transport: "tcp" | "memory";
  /** Whether each came from the run that wrote the checkpoint (else it was asked for). */
  readonly kept: { readonly clock: boolean; readonly transport: boolean };
}

/**
 * The clock and transport of a resumed run: those asked for, else the run's. Asking for one may
 * decide the other: the virtual clock runs on the memory transport only, so asking for TCP
 * continues a virtual-clock run in real time, and asking for the virtual clock runs it in memory.
 * A checkpoint too old to record its transport continues with the transport `summary.json`
 * names, else TCP (the old default).
 *
 * @param asked The options given.
 * @param written The checkpoint's clock and transport.
 * @param summaryTransport The transport in the run's `summary.json`, if any.
 * @returns The clock and transport to use, and which of them were kept.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resumeHow } from "./resume.ts";
 *
 * const virtual = { clock: "virtual", transport: "memory" } as const;
 * assert.deepEqual(resumeHow({}, virtual, null), {
 *   clock: "virtual", transport: "memory", kept: { clock: true, transport: true },
 * });
 * assert.deepEqual(resumeHow({ transport: "tcp" }, virtual, null), {
 *   clock: "real", transport: "tcp", kept: { clock: false, transport: false },
 * });
 * ```
 */
export function resumeHow(
  asked: { readonly clock?: "real" | "virtual"; readonly transport?: "tcp" | "memory" },
  written: { readonly clock: "real" | "virtual"; readonly transport: "tcp" | "memory" | null },
  summaryTransport: "tcp" | "memory" | null,
): Omit<Resuming, "step"> {
  const writtenTransport = written.transport ?? summaryTransport ?? "tcp";
  const transport = asked.transport ??
    (asked.clock === "virtual" ? "memory" : writtenTransport);
  const clock = asked.clock ?? (transport === "tcp" ? "real" : written.clock);
  return {
    clock,
    transport,
    kept: { clock: clock === written.clock, transport: transport === writtenTransport },
  };
}

/** The transport a run folder's `summary.json` names, or `null` (none, unreadable, other). */
async function summaryTransport(runFolder: string): Promise<"tcp" | "memory" | null> {
  try {
    const summary = JSON.parse(await Deno.readTextFile(join(runFolder, "summary.json")));
    const transport = summary?.transport;
    return transport === "tcp" || transport === "memory" ? transport : null;
  } catch {
    return null;
  }
}

/**
 * Continues a run from a checkpoint.
 *
 * @param runFolder The run folder holding `plan.json` and `checkpoints/`.
 * @param options The checkpoint, the steps, where to write (default: the same folder), and the
 *   usual run options; checkpoints continue at the period, and the run on the clock and
 *   transport ({@linkcode resumeHow}), of the run that wrote them unless the options say
 *   otherwise.
 * @returns The run's result, as {@linkcode run} returns it.
 * @throws {RunError} When the folder, its plan or the checkpoint cannot be used, or the run fails.
 */
export async function resume(runFolder: string, options: ResumeOptions = {}): Promise<RunResult> {
  const out = options.out ?? runFolder;
  let checkpoint;
  let plan;
  try {
    const written = await loadPlan(
      join(runFolder, "plan.json"),
      options.allowRemoteModules ? { allowRemoteModules: true } : {},
    );
    plan = options.steps === undefined ? written : parsePlan(
      { ...written, steps: options.steps, evalEvery: Math.min(written.evalEvery, options.steps) },
      `${runFolder}/plan.json with --steps ${options.steps}`,
    );
    checkpoint = await usableCheckpoint(runFolder, plan, options);
  } catch (error) {
    if (error instanceof CheckpointError) {
      const usable = error.usableStep;
      throw new RunError(
        error.message,
        out,
        false,
        usable === null ? {} : { resumable: { step: usable, newest: false } },
      );
    }
    throw error;
  }
  if (checkpoint.step >= plan.steps) {
    throw new RunError(
      `The checkpoint is after ${checkpoint.step} steps, all of the plan's: nothing is left to run (ask for more steps)`,
      out,
    );
  }
  const how = resumeHow(options, checkpoint.how, await summaryTransport(runFolder));
  options.onResuming?.({ step: checkpoint.step, ...how });
  const {
    from: _from,
    steps: _steps,
    fallback: _fallback,
    onResuming: _onResuming,
    ...runOptions
  } = options;
  return await run(plan, {
    ...runOptions,
    clock: how.clock,
    transport: how.transport,
    out,
    checkpointEvery: options.checkpointEvery ?? checkpoint.every,
    keepCheckpoints: options.keepCheckpoints ?? checkpoint.keep,
    resume: {
      folder: runFolder,
      step: checkpoint.step,
      workers: checkpoint.workers,
      ...(checkpoint.members === null ? {} : { members: checkpoint.members }),
      ...(checkpoint.lost.length === 0 ? {} : { lost: checkpoint.lost }),
    },
  });
}

/**
 * The checkpoint to continue from: the one asked for, or the newest. When the newest cannot be
 * used, the error says why and names the newest usable one, which `fallback` takes instead.
 */
async function usableCheckpoint(
  runFolder: string,
  plan: Plan,
  options: ResumeOptions,
): Promise<Checkpoint> {
  const read = async (step?: number) => {
    const checkpoint = await readCheckpoint(runFolder, plan, step);
    await checkCheckpointPlan(checkpoint, plan);
    return checkpoint;
  };
  if (options.from !== undefined) return await read(options.from);
  const steps = await listCheckpoints(runFolder);
  let newest: CheckpointError;
  try {
    return await read();
  } catch (error) {
    if (!(error instanceof CheckpointError) || steps.length === 0) throw error;
    newest = error;
  }
  const unusable = `The newest checkpoint (after ${
    steps.at(-1)
  } steps) cannot be used: ${newest.message}`;
  for (const older of steps.slice(0, -1).reverse()) {
    let checkpoint;
    try {
      checkpoint = await read(older);
    } catch (error) {
      if (error instanceof CheckpointError) continue;
      throw error;
    }
    if (options.fallback) return checkpoint;
    throw new CheckpointError(
      `${unusable}\nThe newest usable one is after ${older} steps`,
      older,
    );
  }
  throw new CheckpointError(`${unusable}\nNo older checkpoint of ${runFolder} can be used either`);
}
