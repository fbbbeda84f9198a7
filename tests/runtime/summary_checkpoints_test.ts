/**
 * `summary.json` lists the checkpoints the run folder holds at the end (issue 20, item 9): with
 * `--keep 2`, the older ones are deleted and not listed.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { allReduce, run } from "../../mod.ts";
import { checkpointPath, listCheckpoints } from "../../runtime/coordinator/checkpoints.ts";
import { leastSquaresPipeline, tempRunFolder } from "./_plans.ts";

Deno.test("summary.json lists only the checkpoints kept: every 1 step, keep 2, 5 steps", async () => {
  const parent = await tempRunFolder();
  try {
    const folder = join(parent, "run");
    const plan = leastSquaresPipeline(5).evalEvery(5).base(allReduce()).compile();
    const result = await run(plan, {
      transport: "memory",
      out: folder,
      checkpointEvery: 1,
      keepCheckpoints: 2,
    });
    const summary = JSON.parse(await Deno.readTextFile(join(folder, "summary.json")));
    assert.deepEqual(summary.checkpoints.steps, [4, 5]);
    assert.deepEqual(result.summary.checkpoints?.steps, [4, 5]);
    for (const step of summary.checkpoints.steps) {
      assert.ok((await Deno.stat(checkpointPath(folder, step))).isFile);
    }
    assert.deepEqual(await listCheckpoints(folder), [4, 5]);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
