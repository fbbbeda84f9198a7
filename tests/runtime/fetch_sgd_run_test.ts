import assert from "node:assert/strict";
import {
  allReduce,
  explainPlan,
  fetchSgd,
  linear,
  mlp,
  mnist,
  sgd,
  synthetic,
  train,
} from "../../mod.ts";
import { readStepLines, runIn } from "./_plans.ts";

/** The 12-byte frame header every message carries (runtime/comm/wire.ts). */
const HEADER = 12;

Deno.test("fetchSgd over TCP: the bytes on the socket are the traits' prediction", async () => {
  // 4 workers, a 3 × 20 sketch: the ring all-reduce sends 2·3 chunks of 15 floats per step.
  const n = 4;
  const plan = train(linear({ dim: 200 }))
    .data(synthetic({ task: "regression", features: 200, trainSize: 800, batchSize: 32 }))
    .workers(n)
    .optimizer(sgd({ lr: 0.05 }))
    .base(allReduce())
    .compress(fetchSgd({ rows: 3, cols: 20, k: 10, rho: 0.9 }))
    .steps(12)
    .evalEvery(12)
    .compile();
  const predicted = explainPlan(plan).bytesPerStep!;
  assert.deepEqual(predicted, {
    base: 0,
    outer: 0,
    compressed: 2 * 3 / 4 * 60 * 4,
    control: 0,
    state: 0,
  });
  await runIn(plan, { transport: "tcp" }, async (result, folder) => {
    const steps = await readStepLines(folder);
    assert.equal(steps.length, 12 * n);
    for (const line of steps) {
      // Each of the 2(n − 1) ring rounds is one frame.
      assert.equal(line.bytesSent.compressed, predicted.compressed + 2 * (n - 1) * HEADER);
      assert.equal(line.bytesSent.base, 0);
    }
    // The error sketch is the same on every worker: so is its norm.
    for (let k = 0; k < 12; k++) {
      const norms = steps.filter((line) => line.step === k)
        .map((line) => line.algorithm!.residualNorm);
      assert.equal(new Set(norms).size, 1, `step ${k}: ${norms}`);
    }
    assert.ok((steps.at(-1)!.algorithm!.residualNorm as number) > 0, "error carries over");
    assert.equal(result.summary.algorithm, "allReduce + fetchSgd");
  });
});

Deno.test("fetchSgd trains a small MNIST classifier from 5 × 1,000 sketches of 12,730 gradients", async () => {
  const plan = train(mlp({ hidden: [16] }))
    .data(mnist({ trainSize: 600, testSize: 300, batchSize: 16 }))
    .workers(3)
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .compress(fetchSgd({ rows: 5, cols: 1000, k: 500, rho: 0.9 }))
    .steps(60)
    .evalEvery(60)
    .compile();
  await runIn(plan, { transport: "memory" }, (result) => {
    // 0.71 when this was written (60 steps; chance is 0.1).
    const accuracy = result.summary.final!.testAccuracy!;
    assert.ok(accuracy > 0.5, `accuracy ${accuracy}: well above chance (10%)`);
  });
});
