/**
 * A run folder has one writer (issue 20, item 5): a resume started while the run still trains
 * is refused and leaves the folder as the run writes it; a lock held by another live process is
 * refused naming it; a lock left by a dead process is stale and taken over.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { run } from "../../mod.ts";
import { resume } from "../../runtime/coordinator/resume.ts";
import { listCheckpoints } from "../../runtime/coordinator/checkpoints.ts";
import { LOCK_FILE } from "../../runtime/coordinator/run_folder.ts";
import { leastSquaresPlans, tempRunFolder } from "./_plans.ts";

/** Whether a path exists. */
async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** A finished 12-step run with checkpoints after 4, 8 and 12 steps. */
async function finishedRun(parent: string): Promise<string> {
  const folder = join(parent, "run");
  await run(leastSquaresPlans(12).allReduce!, {
    transport: "memory",
    out: folder,
    checkpointEvery: 4,
  });
  return folder;
}

Deno.test("a resume started while the run still trains is refused, and the folder stays the run's", async () => {
  const parent = await tempRunFolder();
  const controller = new AbortController();
  try {
    const folder = join(parent, "run");
    const training = run(leastSquaresPlans(1_000_000).allReduce!, {
      transport: "tcp",
      launch: "threads",
      out: folder,
      checkpointEvery: 5,
      // None pruned while the test reads them.
      keepCheckpoints: 1_000_000,
      signal: controller.signal,
    });
    training.catch(() => {});
    // Upper bound only: the workers start, then a checkpoint appears.
    for (let waited = 0; (await listCheckpoints(folder)).length === 0; waited += 20) {
      if (waited > 180_000) throw new Error("no checkpoint within 180 s");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const from = (await listCheckpoints(folder)).at(-1)!;
    const plan = await Deno.readTextFile(join(folder, "plan.json"));
    await assert.rejects(
      // Two steps past the newest checkpoint: without the lock this ends at once, rewriting the run.
      resume(folder, { transport: "memory", from, steps: from + 2 }),
      new RegExp(
        `Run folder "${folder}" is being written by process ${Deno.pid} .*if no such process runs, remove ${
          join(folder, LOCK_FILE)
        }`,
      ),
    );
    // The resume rewrote nothing: the plan is the run's, the run goes on.
    assert.equal(await Deno.readTextFile(join(folder, "plan.json")), plan);
    assert.ok(await exists(join(folder, LOCK_FILE)));
    controller.abort(new Error("Stopped by the test"));
    await assert.rejects(training, /Stopped by the test/);
    assert.equal(await exists(join(folder, LOCK_FILE)), false);
    const summary = JSON.parse(await Deno.readTextFile(join(folder, "summary.json")));
    assert.equal(summary.steps, 1_000_000);
  } finally {
    controller.abort();
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a lock held by another live process is refused naming it; a dead one's is taken over", async () => {
  const parent = await tempRunFolder();
  const sleeper = new Deno.Command("sleep", { args: ["60"], stdout: "null", stderr: "null" })
    .spawn();
  try {
    const folder = await finishedRun(parent);
    const lock = join(folder, LOCK_FILE);
    const before = await Deno.readFile(join(folder, "metrics.jsonl"));
    await Deno.writeTextFile(
      lock,
      JSON.stringify({ pid: sleeper.pid, host: Deno.hostname(), since: "then" }),
    );
    await assert.rejects(
      resume(folder, { transport: "memory", steps: 16 }),
      new RegExp(`is being written by process ${sleeper.pid} on .* \\(since then\\)`),
    );
    assert.deepEqual(await Deno.readFile(join(folder, "metrics.jsonl")), before);
    sleeper.kill("SIGKILL");
    await sleeper.status;
    // The process is gone: its lock is stale, and the resume takes the folder.
    const resumed = await resume(folder, { transport: "memory", steps: 16 });
    assert.equal(resumed.summary.status, "completed");
    assert.equal(await exists(lock), false);
  } finally {
    try {
      sleeper.kill("SIGKILL");
    } catch { /* already ended */ }
    await sleeper.status;
    await Deno.remove(parent, { recursive: true });
  }
});
