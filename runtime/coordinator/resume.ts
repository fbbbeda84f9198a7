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
}

/**
 * Continues a run from a checkpoint.
 *
 * @param runFolder The run folder holding `plan.json` and `checkpoints/`.
 * @param options The checkpoint, the steps, where to write (default: the same folder), and the
 *   usual run options; checkpoints continue at the period of the run that wrote them unless
 *   `checkpointEvery` says otherwise.
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
    if (error instanceof CheckpointError) throw new RunError(error.message, out);
    throw error;
  }
  if (checkpoint.step >= plan.steps) {
    throw new RunError(
      `The checkpoint is after ${checkpoint.step} steps, all of the plan's: nothing is left to run (give more steps with --steps)`,
      out,
    );
  }
  const { from: _from, steps: _steps, fallback: _fallback, ...runOptions } = options;
  return await run(plan, {
    ...runOptions,
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
      `${unusable}\nThe newest usable one is after ${older} steps: continue from it with gossamer resume ${runFolder} --from ${older} (or --fallback)`,
    );
  }
  throw new CheckpointError(`${unusable}\nNo older checkpoint of ${runFolder} can be used either`);
}
