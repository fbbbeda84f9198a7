/**
 * Shared helpers of the run benchmarks: run a plan quietly into a temporary folder and read
 * its step lines back.
 *
 * @module
 */

import { type Plan, run, type RunOptions, type RunResult } from "../mod.ts";
import type { StepLine } from "../runtime/mod.ts";

export type { StepLine };

/** Runs a plan into a temporary folder; returns the result and its step lines. */
export async function benchRun(
  plan: Plan,
  options: RunOptions = {},
): Promise<{ result: RunResult; steps: StepLine[] }> {
  const folder = await Deno.makeTempDir({ prefix: "gossamer_bench_" });
  try {
    const result = await run(plan, { ...options, out: `${folder}/run` });
    const text = await Deno.readTextFile(`${folder}/run/metrics.jsonl`);
    const steps = text.trim().split("\n").map((line) => JSON.parse(line))
      .filter((line) => line.type === "step") as StepLine[];
    return { result, steps };
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
}

/** Steps per second of one worker, from its first to its last step (start-up excluded). */
export function stepsPerSecond(steps: readonly StepLine[], worker = 0): number {
  const own = steps.filter((line) => line.worker === worker);
  const first = own[0]!;
  const last = own.at(-1)!;
  return (last.step - first.step) / ((last.elapsedMs - first.elapsedMs) / 1000);
}
