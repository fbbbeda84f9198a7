import assert from "node:assert/strict";
import { chocoGossip, explainPlan, qsgd, ring, topK } from "../../mod.ts";
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
