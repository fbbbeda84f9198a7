import { deepEqual, equal, ok } from "node:assert/strict";
import { complete, exponential, onePeerExponential, ring, torus } from "../../topologies/mod.ts";
import { dqSgd, qsgd, sketchedSgd, topK } from "../compressors/mod.ts";
import { explainPlan } from "../explain.ts";
import { linear } from "../models/mod.ts";
import { sgd } from "../optimizers/mod.ts";
import { diloco, slowMo } from "../outers/mod.ts";
import { synthetic } from "../data/mod.ts";
import { compatibilityTable } from "../traits.ts";
import { train } from "../train.ts";
import { compileIssues } from "../_testing.ts";
import { chocoGossip } from "./mod.ts";

/** 8 workers, a linear model of 1000 parameters. */
function pipeline(workers = 8) {
  return train(linear({ dim: 1000 }))
    .data(synthetic({ task: "regression", features: 1000 }))
    .workers(workers)
    .optimizer(sgd({ lr: 0.1 }));
}

Deno.test("chocoGossip: gamma is in (0, 1]", () => {
  for (const gamma of [0.01, 0.5, 1]) {
    deepEqual(compileIssues(pipeline().base(chocoGossip(ring, { gamma }))), []);
  }
  for (const gamma of [0, -0.5, 1.5, Number.NaN]) {
    const issues = compileIssues(pipeline().base(chocoGossip(ring, { gamma })));
    deepEqual(issues.map((found) => found.path), ["base.gamma"], `gamma ${gamma}`);
  }
});

Deno.test("chocoGossip takes qsgd and topK without error feedback, refuses the others", () => {
  const base = pipeline().base(chocoGossip(ring, { gamma: 0.5 }));
  deepEqual(compileIssues(base.compress(qsgd({ bits: 2 }))), []);
  deepEqual(compileIssues(base.compress(topK({ k: 10, errorFeedback: false }))), []);
  deepEqual(compileIssues(base.compress(topK({ k: 10 }))), [{
    path: "compress.errorFeedback",
    message: "chocoGossip keeps its own memory of what was not sent (the public copies), so " +
      "topK must not add error feedback: use topK({ ..., errorFeedback: false })",
    expected: "false",
    received: "true",
  }]);
  // DQ-SGD chooses its width from the averaged norm an all-reduce gives it; a count sketch is
  // summed by an all-reduce: neither has one under gossip.
  for (const compress of [dqSgd(), sketchedSgd({ k: 10 })]) {
    const messages = compileIssues(base.compress(compress)).map((found) => found.message);
    equal(messages.length, 1);
    ok(messages[0]!.startsWith(`${compress.kind} cannot compress what chocoGossip sends`));
  }
});

Deno.test("chocoGossip refuses graphs whose neighbours change, and needs doubly stochastic ones", () => {
  const issues = compileIssues(pipeline().base(chocoGossip(onePeerExponential, { gamma: 0.5 })));
  deepEqual(issues, [{
    path: "base.topology",
    message: "chocoGossip keeps public copies of its in-neighbours' models, so its neighbours " +
      "must be the same at every step, but onePeerExponential changes them (period 3 on 8 " +
      "workers); use a fixed graph such as ring, torus or exponential",
    expected: "a topology whose matrix is the same at every step",
    received: '"onePeerExponential"',
  }]);
  // On two workers the one-peer graph is fixed.
  deepEqual(compileIssues(pipeline(2).base(chocoGossip(onePeerExponential, { gamma: 0.5 }))), []);
  for (const topology of [exponential, complete, torus({ rows: 2, cols: 4 })]) {
    deepEqual(compileIssues(pipeline().base(chocoGossip(topology, { gamma: 0.5 }))), []);
  }
});

Deno.test("chocoGossip accepts an outer algorithm: it sets every model, the copies stay shared", () => {
  deepEqual(
    compileIssues(pipeline().base(chocoGossip(ring, { gamma: 0.5 })).outer(slowMo({ tau: 4 }))),
    [],
  );
  deepEqual(
    compileIssues(pipeline().base(chocoGossip(ring, { gamma: 0.5 })).outer(diloco({ tau: 8 }))),
    [],
  );
});

Deno.test("explainPlan: chocoGossip sends one code per out-neighbour", () => {
  const d = 1000;
  const plain = explainPlan(pipeline().base(chocoGossip(ring, { gamma: 1 })).compile());
  equal(plain.bytesPerStep?.base, 2 * 4 * d);
  equal(plain.bytesPerStep?.compressed, 0);
  equal(plain.syncPeriod, null);
  const topKPlan = explainPlan(
    pipeline().base(chocoGossip(ring, { gamma: 0.5 }))
      .compress(topK({ k: 10, errorFeedback: false })).compile(),
  );
  // 10 float32 values and 10 indices of ⌈log2 1000⌉ = 10 bits, to 2 neighbours.
  equal(topKPlan.bytesPerStep?.compressed, 2 * (40 + 13));
  equal(topKPlan.bytesPerStep?.base, 0);
  const qsgdPlan = explainPlan(
    pipeline().base(chocoGossip(exponential, { gamma: 0.5 })).compress(qsgd({ bits: 2 }))
      .compile(),
  );
  // Exponential on 8: 3 out-neighbours; 2 norms, 1000 sign bits and 1000 2-bit levels.
  equal(qsgdPlan.bytesPerStep?.compressed, 3 * (2 * 4 + 125 + 250));
});

Deno.test("the compatibility table lists qsgd and topK under chocoGossip", () => {
  const row = compatibilityTable().split("\n").find((line) => line.startsWith("| `chocoGossip`"));
  ok(row !== undefined);
  ok(row.includes("`qsgd`, `topK`"), row);
  ok(!row.includes("dqSgd") && !row.includes("sketchedSgd"), row);
});
