import assert from "node:assert/strict";
import { join } from "node:path";
import { explainPlan, localSgd, run, sparseLoco } from "../../mod.ts";
import { resume } from "../../runtime/coordinator/resume.ts";
import { FRAME_HEADER_BYTES } from "../../runtime/comm/wire.ts";
import {
  deterministicLines,
  leastSquaresPipeline,
  leastSquaresPlans,
  readStepLines,
  runIn,
  tempRunFolder,
} from "./_plans.ts";

Deno.test("sparseLoco over TCP: the bytes on the socket are the plan's prediction plus one frame header per code", async () => {
  const [steps, tau, n] = [12, 4, 4];
  const plan = leastSquaresPipeline(steps).base(localSgd({ tau }))
    .outer(sparseLoco({ tau, k: 1, chunk: 2, bits: 2 })).compile();
  // d = 3: chunks of 2 and 1, one value kept in each; 1-bit indices, 2-bit levels, two scales.
  const code = 2 * 4 + 1 + 1;
  const predicted = explainPlan(plan).bytesPerStep!;
  assert.deepEqual(predicted, {
    base: 0,
    outer: (n - 1) * code / tau,
    compressed: 0,
    control: 0,
    state: 0,
  });
  await runIn(plan, { transport: "tcp" }, async (result, folder) => {
    const syncs = steps / tau;
    for (const { sent, received } of result.summary.bytes) {
      assert.equal(sent.outer, predicted.outer * steps + syncs * (n - 1) * FRAME_HEADER_BYTES);
      assert.equal(received.outer, sent.outer);
      assert.equal(sent.base, 0);
    }
    // Step lines carry the sync's payload bytes and the residual left in the error feedback.
    const lines = await readStepLines(folder);
    for (const line of lines) {
      if ((line.step + 1) % tau === 0) {
        assert.equal(line.algorithm?.syncBytes, (n - 1) * code);
        assert.ok((line.algorithm?.outerResidualNorm as number) > 0);
      } else {
        assert.equal(line.algorithm, undefined);
      }
    }
  });
});

Deno.test("sparseLoco resumed over TCP between two syncs equals the uninterrupted run", async () => {
  const plan = leastSquaresPlans(12).sparseLocoOverLocalSgd!;
  const parent = await tempRunFolder();
  try {
    const full = await run(plan, {
      transport: "tcp",
      out: join(parent, "full"),
      checkpointEvery: 4,
    });
    // Step 4 follows the first sync: θ and a non-zero error feedback come from the checkpoint.
    const resumed = await resume(join(parent, "full"), {
      transport: "tcp",
      from: 4,
      out: join(parent, "resumed"),
    });
    assert.deepEqual(resumed.params, full.params);
    assert.deepEqual(
      await deterministicLines(join(parent, "resumed"), false),
      await deterministicLines(join(parent, "full"), false),
    );
    assert.deepEqual(resumed.summary.bytes, full.summary.bytes);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
