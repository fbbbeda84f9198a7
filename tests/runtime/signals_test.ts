/**
 * What schedulers, `timeout`, `docker stop` and a dropped ssh session send: SIGTERM and SIGHUP
 * stop a run as Ctrl-C does, with the conventional exit code, a summary, and a newest
 * checkpoint from which the run continues to the same parameters as an uninterrupted one.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { gossip, ring, run } from "../../mod.ts";
import { resume } from "../../runtime/coordinator/resume.ts";
import { listCheckpoints } from "../../runtime/coordinator/checkpoints.ts";
import { leastSquaresPipeline, tempRunFolder } from "./_plans.ts";
import { reap, start, type Started, waitForMetrics } from "./_processes.ts";

/** The interrupted plan: gossip on a ring, 1500 steps, checkpoints every 50. */
const plan = leastSquaresPipeline(1500).base(gossip(ring)).evalEvery(500).compile();

/** Starts `gossamer run` of {@linkcode plan} in a fresh folder; waits until it is under way. */
async function startRun(): Promise<{ parent: string; folder: string; started: Started }> {
  const parent = await tempRunFolder();
  const folder = join(parent, "run");
  await Deno.writeTextFile(join(parent, "plan.json"), JSON.stringify(plan));
  const started = start(
    "run",
    join(parent, "plan.json"),
    "--out",
    folder,
    "--checkpoint-every",
    "50",
    "--quiet",
  );
  try {
    await waitForMetrics(folder, 4 * 120);
  } catch (error) {
    await reap(started);
    await Deno.remove(parent, { recursive: true });
    throw error;
  }
  return { parent, folder, started };
}

/** Asserts that resuming the run in `folder` gives the parameters of an uninterrupted run. */
async function assertResumesToReference(parent: string, folder: string): Promise<void> {
  const resumed = await resume(folder, { transport: "memory" });
  const reference = await run(plan, {
    transport: "memory",
    out: join(parent, "reference"),
    checkpointEvery: 50,
  });
  assert.deepEqual(resumed.params, reference.params);
}

for (const [signal, code] of [["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  Deno.test(`${signal} stops a run cleanly (exit ${code}) and it resumes to the uninterrupted result`, async () => {
    const { parent, folder, started } = await startRun();
    try {
      started.child.kill(signal);
      const result = await started.output;
      assert.equal(result.code, code, result.stderr);
      assert.match(result.stderr, new RegExp(`Interrupted by .* \\(${signal}\\)`));
      assert.match(
        result.stderr,
        new RegExp(`\\nContinue with: deno task gossamer resume ${folder}\\n`),
      );
      const summary = JSON.parse(await Deno.readTextFile(join(folder, "summary.json")));
      assert.match(summary.error, new RegExp(signal));
      // Stopped from outside, not failed.
      assert.equal(summary.status, "stopped");
      assert.ok((await listCheckpoints(folder)).length > 0, "a checkpoint was written");
      await assertResumesToReference(parent, folder);
    } finally {
      await reap(started);
      await Deno.remove(parent, { recursive: true });
    }
  });
}

Deno.test("after SIGKILL the metrics written and the newest checkpoint are usable, and resume cleans up", async () => {
  const { parent, folder, started } = await startRun();
  try {
    started.child.kill("SIGKILL");
    const result = await started.output;
    assert.equal(result.code, 137, "killed by SIGKILL");
    await assert.rejects(Deno.stat(join(folder, "summary.json")), Deno.errors.NotFound);
    assert.ok((await listCheckpoints(folder)).length > 0, "a checkpoint was written");
    // A write cut short by the kill, as it would be left.
    await Deno.writeTextFile(join(folder, "checkpoints", "step-00099999.safetensors.x.tmp"), "cut");
    await assertResumesToReference(parent, folder);
    const leftovers = [...Deno.readDirSync(join(folder, "checkpoints"))]
      .filter((entry) => entry.name.endsWith(".tmp"));
    assert.deepEqual(leftovers, []);
  } finally {
    await reap(started);
    await Deno.remove(parent, { recursive: true });
  }
});
