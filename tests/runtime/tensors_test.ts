import assert from "node:assert/strict";
import {
  allReduce,
  bmuf,
  exponential,
  gossip,
  localSgd,
  mlp,
  onePeerExponential,
  run,
  sgd,
  sgp,
  slowMo,
  synthetic,
  train,
} from "../../mod.ts";
import { readMetrics, tempRunFolder } from "./_plans.ts";

const STEPS = 200;
const start = train(mlp({ hidden: [8] }))
  .data(synthetic({ features: 8, classes: 3, trainSize: 256, testSize: 64, batchSize: 8 }))
  .workers(4)
  .optimizer(sgd({ lr: 0.05, momentum: 0.9 }))
  .steps(STEPS)
  .evalEvery(50);

const plans = {
  allReduce: start.base(allReduce()),
  localSgd: start.base(localSgd({ tau: 4 })),
  gossip: start.base(gossip(onePeerExponential)),
  sgp: start.base(sgp(exponential)),
  slowMo: start.base(localSgd({ tau: 2 })).outer(slowMo({ tau: 8, buffers: "average" })),
  bmuf: start.base(gossip(onePeerExponential)).outer(bmuf({ tau: 8 })),
};

Deno.test("the TensorFlow.js tensor count stays flat over hundreds of steps of every algorithm", async (t) => {
  for (const [name, pipeline] of Object.entries(plans)) {
    await t.step(name, async () => {
      const folder = await tempRunFolder();
      try {
        await run(pipeline.compile(), { transport: "memory", out: `${folder}/run` });
        const counts = (await readMetrics(`${folder}/run`))
          .filter((line) => line.type === "step")
          .map((line) => ({ step: line.step as number, tensors: line.tensors as number }));
        assert.equal(counts.length, STEPS * 4);
        // All ranks share one engine here and interleave, so compare windows, not single
        // readings: a leak of even one tensor per step would add ~130 between the windows.
        const max = (from: number, to: number) =>
          Math.max(...counts.filter((c) => c.step >= from && c.step < to).map((c) => c.tensors));
        assert.ok(
          max(150, 200) <= max(20, 70),
          `${name}: ${max(20, 70)} tensors early, ${max(150, 200)} late`,
        );
      } finally {
        await Deno.remove(folder, { recursive: true });
      }
    });
  }
});
