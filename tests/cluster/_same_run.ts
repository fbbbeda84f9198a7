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
import { deterministicLines } from "../runtime/_plans.ts";

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
