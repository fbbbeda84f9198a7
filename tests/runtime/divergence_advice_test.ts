/**
 * After a NaN loss the stop message must not send the user into the same wall (issue 20, item
 * 9): batches and random draws are functions of the step, so resuming from the newest checkpoint
 * diverges again at the same step. The message says so, and the claim is checked by resuming.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { allReduce, run, sgd } from "../../mod.ts";
import { resume } from "../../runtime/coordinator/resume.ts";
import { leastSquaresPipeline, tempRunFolder } from "./_plans.ts";

/** Least squares with a learning rate far above 2/L: the loss grows until it overflows. */
const plan = leastSquaresPipeline(60).optimizer(sgd({ lr: 40 })).base(allReduce()).compile();

/** Awaits a run that must fail; returns its message. */
async function failure(running: Promise<unknown>): Promise<string> {
  try {
    await running;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("the run did not fail");
}

for (const transport of ["memory", "tcp"] as const) {
  Deno.test(`a diverged run's message says resuming repeats the divergence (${transport})`, async () => {
    const parent = await tempRunFolder();
    try {
      const folder = join(parent, "run");
      const message = await failure(run(plan, { transport, out: folder, checkpointEvery: 4 }));
      const diverged = /Worker \d: training loss is (?:NaN|-?Infinity) at step (\d+)/.exec(message);
      assert.ok(diverged !== null, message);
      const step = Number(diverged[1]);
      const checkpoint = Math.floor(step / 4) * 4;
      assert.ok(checkpoint > 0 && checkpoint < step, `diverged at ${step}`);
      assert.match(
        message,
        new RegExp(
          `\\nThe newest checkpoint is after ${checkpoint} steps, but resuming from it repeats the same batches and random draws and will diverge again at step ${step} \\(a resume may change only the steps and evalEvery\\): run the plan again with a lower learning rate or with gradient clipping \\(clipNorm\\)$`,
        ),
      );
      assert.doesNotMatch(message, /continue with/i);
      // The advice holds: the resume diverges again at the same step.
      const again = await failure(resume(folder, { transport: "memory" }));
      assert.match(again, new RegExp(`training loss is (NaN|-?Infinity) at step ${step}\\n`));
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  });
}
