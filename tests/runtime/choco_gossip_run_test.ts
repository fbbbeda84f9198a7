import assert from "node:assert/strict";
import { chocoGossip, explainPlan, network, qsgd, ring, topK } from "../../mod.ts";
import { predictStepTime } from "../../runtime/coordinator/predict_time.ts";
import { FRAME_HEADER_BYTES } from "../../runtime/comm/wire.ts";
import { leastSquaresPipeline, runIn } from "./_plans.ts";

/**
 * The bytes each worker wrote to its sockets in the base's phase: the traits' prediction per
 * step (one code per out-neighbour), plus one frame header per message.
 */
for (
  const [name, compress, phase] of [
    ["float32 differences", null, "base"],
    ["top-2", topK({ k: 2, errorFeedback: false }), "compressed"],
    ["2-bit QSGD", qsgd({ bits: 2 }), "compressed"],
  ] as const
) {
  Deno.test(`chocoGossip with ${name}: bytes on the socket equal the traits' prediction, on memory and TCP`, async () => {
    const steps = 10;
    const start = leastSquaresPipeline(steps).base(chocoGossip(ring, { gamma: 0.5 }));
    const plan = (compress === null ? start : start.compress(compress)).compile();
    const predicted = explainPlan(plan).bytesPerStep!;
    // A ring: two out-neighbours per worker, one message each per step.
    const perStep = predicted[phase] + 2 * FRAME_HEADER_BYTES;
    const results = [
      await runIn(plan, { transport: "memory" }, (r) => r),
      await runIn(plan, { transport: "tcp" }, (r) => r),
    ];
    for (const result of results) {
      for (const { sent } of result.summary.bytes) {
        assert.equal(sent[phase], steps * perStep);
        assert.equal(sent[phase === "base" ? "compressed" : "base"], 0);
      }
    }
    assert.deepEqual(results[1]!.params, results[0]!.params);
    assert.notDeepEqual(results[0]!.params.workers[0], results[0]!.params.workers[1]);
  });
}

Deno.test("virtual clock: chocoGossip with top-1 takes the predicted time on a declared network", async () => {
  const plan = leastSquaresPipeline(20).base(chocoGossip(ring, { gamma: 0.5 }))
    .compress(topK({ k: 1, errorFeedback: false }))
    .network(network({ bandwidth: "2Mbit", latency: "3ms", jitter: "2ms", computeMs: 10 }))
    .compile();
  const prediction = await predictStepTime(plan, 3, { periods: 20 });
  assert.equal(prediction.steps, 20);
  // Two codes of one float32 value and one 2-bit index, each in a 12-byte frame.
  assert.equal(prediction.bytesPerStep, 2 * (4 + 1 + FRAME_HEADER_BYTES));
  const simulated = await runIn(
    plan,
    { transport: "memory", clock: "virtual" },
    (r) => r.summary.virtualTimeMs!,
  );
  assert.ok(
    Math.abs(simulated / 20 - prediction.msPerStep) < 1e-9 * simulated,
    `run ${simulated / 20} ms per step, predicted ${prediction.msPerStep}`,
  );
  // Compute alone is 20 × 10 ms, and each exchange waits at least the 3 ms latency.
  assert.ok(simulated > 20 * 13, `${simulated} ms`);
});
