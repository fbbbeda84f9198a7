import assert from "node:assert/strict";
import {
  allReduce,
  cada,
  chocoGossip,
  decentLaM,
  dmSgd,
  dqSgd,
  fetchSgd,
  gossip,
  linear,
  localSgd,
  mlp,
  mnist,
  overlapLocalSgd,
  type Plan,
  PlanError,
  qsgd,
  ring,
  run,
  sgd,
  sgp,
  sketchedSgd,
  synthetic,
  topK,
  train,
} from "../../mod.ts";
import { compressedBytes } from "../../dsl/explain.ts";
import { leastSquaresPipeline, readStepLines, tempRunFolder } from "./_plans.ts";

/** The 12-byte frame header every message carries (runtime/comm/wire.ts). */
const HEADER = 12;

/** A small MNIST classifier on 3 workers with a top-k compressor. */
function digits(base: ReturnType<typeof allReduce> | ReturnType<typeof localSgd>): Plan {
  return train(mlp({ hidden: [16] }))
    .data(mnist({ trainSize: 600, testSize: 300, batchSize: 16 }))
    .workers(3)
    .optimizer(sgd({ lr: 0.1 }))
    .base(base)
    .compress(topK({ k: 500 }))
    .steps(60)
    .evalEvery(60)
    .compile();
}

for (const base of [allReduce(), localSgd({ tau: 4 })]) {
  Deno.test(`top-k with error feedback trains under ${base.kind} over TCP, bytes as packed`, async () => {
    const plan = digits(base);
    const parent = await tempRunFolder();
    try {
      const result = await run(plan, { out: `${parent}/run` });
      const steps = await readStepLines(`${parent}/run`);
      // 784·16 + 16 + 16·10 + 10 = 12,730 parameters: each code is 500 float32 values and 500
      // indices of ⌈log2 12730⌉ = 14 bits.
      const code = compressedBytes(plan.compress!, 12_730);
      assert.equal(code, 500 * 4 + Math.ceil(500 * 14 / 8));
      const every = base.kind === "localSgd" ? 4 : 1;
      for (const line of steps) {
        const exchanged = (line.step + 1) % every === 0;
        // Each exchange sends this worker's code to the 2 others, one frame each.
        assert.equal(line.bytesSent.compressed, exchanged ? 2 * (HEADER + code) : 0);
        assert.equal(line.bytesSent.base, 0);
        assert.equal(typeof line.algorithm?.residualNorm, "number");
      }
      // The residual holds what is still to be sent: positive once anything was held back.
      assert.ok((steps.at(-1)!.algorithm!.residualNorm as number) > 0);
      assert.ok(result.summary.final!.testAccuracy! > 0.3, "better than chance (10%)");
      assert.equal(result.summary.algorithm, `${base.kind} + topK`);
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  });
}

Deno.test("every compressor × base either runs and sends compressed bytes or is refused", async () => {
  const compressors = [
    qsgd({ bits: 4 }),
    dqSgd({ budgetBits: 3 }),
    sketchedSgd({ k: 2, cols: 3, p2: 1 }),
    fetchSgd({ k: 2, cols: 2 }),
    topK({ k: 1 }),
    topK({ k: 1, errorFeedback: false }),
  ];
  const bases = [
    allReduce(),
    localSgd({ tau: 2 }),
    gossip(ring),
    sgp(ring),
    dmSgd(ring),
    decentLaM(ring),
    overlapLocalSgd({ tau: 2 }),
    cada({ variant: 1, c: 0 }),
    chocoGossip(ring, { gamma: 0.5 }),
  ];
  const runs: string[] = [];
  for (const compressor of compressors) {
    for (const base of bases) {
      const pipeline = leastSquaresPipeline(6).evalEvery(6).base(base).compress(compressor);
      let plan: Plan;
      try {
        plan = pipeline.compile();
      } catch (error) {
        assert.ok(error instanceof PlanError, `${compressor.kind} × ${base.kind}`);
        assert.ok(
          error.issues.some((issue) => issue.path.startsWith("compress")),
          `${compressor.kind} × ${base.kind} is refused for its compressor: ${error.message}`,
        );
        continue;
      }
      const parent = await tempRunFolder();
      try {
        const result = await run(plan, { transport: "memory", out: `${parent}/run` });
        const sent = result.summary.bytes[0]!.sent;
        assert.ok(sent.compressed > 0, `${compressor.kind} × ${base.kind} sends compressed bytes`);
        assert.equal(sent.base, 0, `${compressor.kind} × ${base.kind} sends nothing uncompressed`);
        const feedback = compressor.kind === "topK" && !compressor.errorFeedback ? " (no EF)" : "";
        runs.push(`${compressor.kind}${feedback} × ${base.kind}`);
      } finally {
        await Deno.remove(parent, { recursive: true });
      }
    }
  }
  assert.deepEqual(runs, [
    "qsgd × allReduce",
    "qsgd × localSgd",
    "qsgd × chocoGossip",
    "dqSgd × allReduce",
    "dqSgd × localSgd",
    "sketchedSgd × allReduce",
    "fetchSgd × allReduce",
    "topK × allReduce",
    "topK × localSgd",
    "topK (no EF) × allReduce",
    "topK (no EF) × localSgd",
    "topK (no EF) × chocoGossip",
  ]);
});

Deno.test("DQ-SGD's widths in a run: the budget on average, never falling, not starved at the end", async () => {
  // allReduce + dqSgd() (widths 2…8, budget 4), d = 1000, 4 workers, 100 steps: a linear
  // regression whose averaged gradient norm falls about 16-fold. The rule before this one paid
  // its early overspend back at the end: …5555444443332222.
  const plan = train(linear({ dim: 1000, init: "random" }))
    .data(synthetic({ task: "regression", features: 1000, trainSize: 4000, batchSize: 32 }))
    .workers(4)
    .optimizer(sgd({ lr: 0.03 }))
    .base(allReduce())
    .compress(dqSgd())
    .steps(100)
    .evalEvery(100)
    .compile();
  const parent = await tempRunFolder();
  try {
    await run(plan, { transport: "memory", out: `${parent}/run` });
    const steps = await readStepLines(`${parent}/run`);
    const byWorker = [0, 1, 2, 3].map((worker) =>
      steps.filter((line) => line.worker === worker).map((line) => line.algorithm!.bits as number)
    );
    for (const widths of byWorker) assert.deepEqual(widths, byWorker[0], "every rank the same");
    const widths = byWorker[0]!;
    assert.equal(widths.length, 100);
    // An integer budget is spent exactly: 400 bits per value over the 100 exchanges.
    assert.equal(widths.reduce((a, b) => a + b, 0), 400, widths.join(""));
    for (let k = 1; k < 100; k++) assert.ok(widths[k]! >= widths[k - 1]!, widths.join(""));
    assert.ok(widths.slice(90).every((bits) => bits >= 4), widths.join(""));
    assert.ok(widths.every((bits) => bits >= 2 && bits <= 8));
    // Each exchange is quantized at its width: the code sizes the worker wrote add up.
    const sent = steps.filter((line) => line.worker === 0)
      .reduce((sum, line) => sum + line.bytesSent.compressed, 0);
    const codes = widths.reduce(
      (sum, bits) => sum + compressedBytes(qsgd({ bits, bucket: 512 }), 1000),
      0,
    );
    assert.equal(sent, 3 * (100 * HEADER + codes));
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
