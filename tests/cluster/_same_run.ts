/**
 * Comparing a run made by launched workers with the same plan run locally (`gossamer run`):
 * the deterministic least-squares plan gives the same parameters and metrics, bit for bit,
 * however its workers were started.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { start } from "../runtime/_processes.ts";
import { deterministicLines, leastSquaresPipeline } from "../runtime/_plans.ts";
import { allReduce } from "../../mod.ts";

/** The deterministic plan every cluster test runs: four workers, gossip on a ring, SlowMo. */
export const PLAN = "examples/least_squares.ts";

/**
 * Runs {@linkcode PLAN} locally into `out` with `gossamer run` (thread workers).
 *
 * @param out The run folder.
 */
export async function runLocally(out: string): Promise<void> {
  const local = await start("run", PLAN, "--out", out, "--quiet").output;
  assert.equal(local.code, 0, local.stderr);
}

/**
 * Asserts two run folders hold the same run: `params.json` byte for byte, every metrics line
 * but its timings, and the final evaluation.
 *
 * @param actual The launched run's folder.
 * @param expected The local run's folder.
 */
export async function assertSameRun(actual: string, expected: string): Promise<void> {
  const read = (folder: string, name: string) => Deno.readTextFile(join(folder, name));
  assert.equal(await read(actual, "params.json"), await read(expected, "params.json"));
  assert.deepEqual(
    await deterministicLines(actual, false),
    await deterministicLines(expected, false),
  );
  const summary = async (folder: string) => JSON.parse(await read(folder, "summary.json"));
  const [a, b] = [await summary(actual), await summary(expected)];
  assert.equal(a.status, "completed");
  assert.equal(a.launch, "none");
  assert.deepEqual(a.final, b.final);
}

/** Steps of {@linkcode writeHierarchicalPlan}'s plan. */
export const HIERARCHICAL_STEPS = 20;

/**
 * Writes the plan the hierarchical tests run: all-reduce SGD on the least-squares problem, four
 * workers, {@linkcode HIERARCHICAL_STEPS} steps.
 *
 * @param folder Where `plan.json` goes.
 * @returns The plan file.
 */
export async function writeHierarchicalPlan(folder: string): Promise<string> {
  const plan = leastSquaresPipeline(HIERARCHICAL_STEPS).base(allReduce()).compile();
  const file = join(folder, "plan.json");
  await Deno.writeTextFile(file, JSON.stringify(plan));
  return file;
}

/**
 * Asserts that a run of {@linkcode writeHierarchicalPlan}'s plan by two processes of two thread
 * workers each completed with hierarchical all-reduces: every step one all-reduce of the `d`
 * gradients, between the processes' first workers only (a ring of two, each sending one chunk per
 * half: `d` floats in two 12-byte-header messages), and nothing sent by the others.
 *
 * @param folder The run folder.
 */
export async function assertHierarchicalRun(folder: string): Promise<void> {
  const read = async (name: string) => JSON.parse(await Deno.readTextFile(join(folder, name)));
  const summary = await read("summary.json");
  assert.equal(summary.status, "completed");
  assert.equal(summary.allReduce, "hierarchical");
  const d = (await read("params.json")).average.length;
  const perStep = 4 * d + 2 * 12;
  assert.deepEqual(
    summary.bytes.map((bytes: { sent: { base: number } }) => bytes.sent.base),
    [HIERARCHICAL_STEPS * perStep, 0, HIERARCHICAL_STEPS * perStep, 0],
  );
}
