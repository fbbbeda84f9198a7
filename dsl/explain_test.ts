import { deepEqual, equal } from "node:assert/strict";
import { complete, exponential, onePeerExponential, ring, star, torus } from "../topologies/mod.ts";
import {
  allReduce,
  cada,
  decentLaM,
  dmSgd,
  gossip,
  localSgd,
  overlapLocalSgd,
  sgp,
} from "./bases/mod.ts";
import { dqSgd, qsgd, sketchedSgd, topK } from "./compressors/mod.ts";
import { mnist, synthetic } from "./data/mod.ts";
import { compressedBytes, explainPlan } from "./explain.ts";
import { ringAllReduceBytes } from "./traits.ts";
import { custom, linear, mlp } from "./models/mod.ts";
import { network } from "./network.ts";
import { adam, sgd } from "./optimizers/mod.ts";
import { bmuf, diloco, slowMo, sparseLoco, streamingDiloco } from "./outers/mod.ts";
import type { BaseNode, CompressorNode, OuterNode, Plan } from "./plan.ts";
import { cosine, stepDecay, warmup } from "./schedules.ts";
import { train } from "./train.ts";

/** Model size used by most tests: a linear model of d weights on d-feature regression data. */
const D = 1000;

/**
 * A plan of a d-weight linear model on `workers` workers (enough training data for any worker
 * count used here), with the given base, compressor and outer.
 */
function linearPlan(
  workers: number,
  base: BaseNode,
  extra: { compress?: CompressorNode; outer?: OuterNode } = {},
): Plan {
  let pipeline = train(linear({ dim: D }))
    .data(synthetic({ task: "regression", features: D }))
    .workers(workers)
    .optimizer(sgd({ lr: 0.1 }))
    .base(base);
  if (extra.compress !== undefined) pipeline = pipeline.compress(extra.compress);
  if (extra.outer !== undefined) pipeline = pipeline.outer(extra.outer);
  return pipeline.compile();
}

const ZERO = { base: 0, outer: 0, compressed: 0, control: 0, state: 0 };

Deno.test("ringAllReduceBytes: 2(n−1)/n · count · 4 bytes, 0 for one worker", () => {
  equal(ringAllReduceBytes(10, 4), 60);
  equal(ringAllReduceBytes(1000, 8), 7000);
  equal(ringAllReduceBytes(1000, 2), 4000);
  equal(ringAllReduceBytes(1000, 1), 0);
});

Deno.test("compressedBytes: QSGD packs 1 + ⌈log2(s+1)⌉ bits per value plus a norm per bucket", () => {
  // s = 3: 1 + 2 = 3 bits · 1024 = 384 bytes; 2 buckets · 4 bytes.
  equal(compressedBytes(qsgd({ levels: 3, bucket: 512 }), 1024), 392);
  // s = 1: 1 + 1 = 2 bits · 1000 = 250 bytes; ⌈1000/512⌉ = 2 norms.
  equal(compressedBytes(qsgd({ levels: 1 }), 1000), 258);
  // s = 4: 1 + ⌈log2 5⌉ = 4 bits · 1000 = 500 bytes; 10 buckets of 100.
  equal(compressedBytes(qsgd({ levels: 4, bucket: 100 }), 1000), 540);
  // bits 4 → s = 15: 1 + 4 = 5 bits · 1000 = 625 bytes + 8.
  equal(compressedBytes(qsgd(), 1000), 633);
  // bits 8 → s = 255: 9 bits · 8 = 72 bits = 9 bytes; one norm.
  equal(compressedBytes(qsgd({ bits: 8 }), 8), 13);
  // Bits round up to whole bytes: 3 bits · 3 = 9 bits → 2 bytes.
  equal(compressedBytes(qsgd({ levels: 3 }), 3), 6);
});

Deno.test("compressedBytes: DQ-SGD, top-k and count sketch", () => {
  // budget 3: 1 + 3 = 4 bits · 1000 = 500 bytes + 2 norms.
  equal(compressedBytes(dqSgd({ budgetBits: 3 }), 1000), 508);
  // top-k: k float32 values, then k indices packed at ⌈log2 1000⌉ = 10 bits: 40 + 13 bytes.
  equal(compressedBytes(topK({ k: 10 }), 1000), 53);
  equal(compressedBytes(topK({ k: 3 }), 1024), 12 + 4);
  equal(compressedBytes(topK({ k: 1 }), 1), 4 + 1);
  // sketch: rows · cols float32s, independent of d.
  equal(compressedBytes(sketchedSgd({ k: 10, rows: 5, cols: 100 }), 1000), 2000);
  equal(compressedBytes(sketchedSgd({ k: 10, rows: 5, cols: 100 }), 10), 2000);
});

Deno.test("explainPlan: allReduce sends one ring all-reduce of d floats per step", () => {
  const { chain: _chain, ...rest } = explainPlan(linearPlan(8, allReduce()));
  deepEqual(rest, {
    parameters: D,
    syncPeriod: 1,
    synchronisation: "exact average every step",
    // 2·7/8 · 4·1000.
    bytesPerStep: { ...ZERO, base: 7000 },
    allReduceBytesPerStep: 7000,
    notes: [],
  });
  equal(explainPlan(linearPlan(4, allReduce())).bytesPerStep?.base, 6000); // 2·3/4 · 4000
});

Deno.test("explainPlan: localSgd and overlapLocalSgd divide the all-reduce by tau", () => {
  const local = explainPlan(linearPlan(8, localSgd({ tau: 4 })));
  deepEqual(local.bytesPerStep, { ...ZERO, base: 1750 });
  equal(local.syncPeriod, 4);
  equal(local.allReduceBytesPerStep, 7000);
  const overlap = explainPlan(linearPlan(8, overlapLocalSgd({ tau: 5 })));
  deepEqual(overlap.bytesPerStep, { ...ZERO, base: 1400 });
  equal(overlap.syncPeriod, 5);
});

Deno.test("explainPlan: gossip on a ring sends the model to 2 neighbours", () => {
  const e = explainPlan(linearPlan(8, gossip(ring)));
  deepEqual(e.bytesPerStep, { ...ZERO, base: 2 * 4 * D });
  equal(e.syncPeriod, null);
  // Two workers: the two ring neighbours are the same rank.
  equal(explainPlan(linearPlan(2, gossip(ring))).bytesPerStep?.base, 4 * D);
});

Deno.test("explainPlan: sgp on the exponential graph sends x and w to log2 n peers", () => {
  // n = 8: 3 out-neighbours, each gets d + 1 floats.
  equal(explainPlan(linearPlan(8, sgp(exponential))).bytesPerStep?.base, 4 * (D + 1) * 3);
  equal(explainPlan(linearPlan(16, sgp(exponential))).bytesPerStep?.base, 4 * (D + 1) * 4);
  // n = 5: ⌈log2 5⌉ = 3 peers.
  equal(explainPlan(linearPlan(5, sgp(exponential))).bytesPerStep?.base, 4 * (D + 1) * 3);
});

Deno.test("explainPlan: one-peer exponential sends to one neighbour per step", () => {
  const e = explainPlan(linearPlan(8, gossip(onePeerExponential)));
  deepEqual(e.bytesPerStep, { ...ZERO, base: 4 * D });
  equal(e.syncPeriod, null);
});

Deno.test("explainPlan: dmSgd and decentLaM send like gossip over their topology", () => {
  // Torus 2×4: up and down are the same rank, so 3 distinct out-neighbours.
  equal(explainPlan(linearPlan(8, dmSgd(torus({ rows: 2, cols: 4 })))).bytesPerStep?.base, 12 * D);
  // Torus 4×4: 4 neighbours.
  equal(explainPlan(linearPlan(16, dmSgd(torus({ rows: 4, cols: 4 })))).bytesPerStep?.base, 16 * D);
  // Star of 8: the hub sends to 7, each leaf to 1 → mean 14/8 = 1.75 messages.
  equal(explainPlan(linearPlan(8, decentLaM(star))).bytesPerStep?.base, 1.75 * 4 * D);
  // Complete graph: 7 peers, and every step is an exact average.
  const full = explainPlan(linearPlan(8, gossip(complete)));
  equal(full.bytesPerStep?.base, 7 * 4 * D);
  equal(full.syncPeriod, 1);
});

Deno.test("explainPlan: cada is bounded by a broadcast plus every upload, with a note", () => {
  const e = explainPlan(linearPlan(8, cada({ c: 0.5 })));
  // Rank 0 sends θ to 7 workers, 7 workers upload d floats: 14·d floats over 8 workers.
  deepEqual(e.bytesPerStep, { ...ZERO, base: (14 * 4 * D) / 8 });
  equal(e.syncPeriod, 1);
  deepEqual(e.notes, [
    "cada: upper bound, every worker uploading every step; skipped uploads send nothing",
  ]);
});

Deno.test("explainPlan: outer algorithms add one all-reduce every tau steps", () => {
  const slow = explainPlan(linearPlan(8, gossip(ring), { outer: slowMo({ tau: 10 }) }));
  deepEqual(slow.bytesPerStep, { ...ZERO, base: 8 * D, outer: 700 });
  equal(slow.syncPeriod, 10);
  const block = explainPlan(linearPlan(8, allReduce(), { outer: bmuf({ tau: 20 }) }));
  deepEqual(block.bytesPerStep, { ...ZERO, base: 7000, outer: 350 });
  equal(block.syncPeriod, 20);
  // Over local SGD the outer period is the synchronisation period, and the local average that
  // falls on an outer step is skipped: 3 of every 4 local averages remain.
  const local = explainPlan(linearPlan(8, localSgd({ tau: 3 }), { outer: slowMo({ tau: 12 }) }));
  deepEqual(local.bytesPerStep, { ...ZERO, base: 7000 * (1 / 3 - 1 / 12), outer: 7000 / 12 });
  equal(local.syncPeriod, 12);
  // DiLoCo: one all-reduce of the model every tau steps, the same over local SGD.
  const outer = explainPlan(linearPlan(8, localSgd({ tau: 5 }), { outer: diloco({ tau: 20 }) }));
  deepEqual(outer.bytesPerStep, { ...ZERO, base: 7000 * (1 / 5 - 1 / 20), outer: 350 });
  equal(outer.syncPeriod, 20);
});

Deno.test("explainPlan: QSGD codes are all-gathered, (n−1) codes per worker", () => {
  // d = 1000, s = 3: ⌈3000/8⌉ = 375 bytes + 2 norms = 383 bytes per code; 7 codes.
  const e = explainPlan(linearPlan(8, allReduce(), { compress: qsgd({ levels: 3 }) }));
  deepEqual(e.bytesPerStep, { ...ZERO, compressed: 7 * 383 });
  equal(e.allReduceBytesPerStep, 7000);
  // s = 4, buckets of 100: 500 + 40 = 540 bytes per code.
  const fine = explainPlan(
    linearPlan(8, allReduce(), { compress: qsgd({ levels: 4, bucket: 100 }) }),
  );
  equal(fine.bytesPerStep?.compressed, 7 * 540);
  // Over local SGD only every tau steps.
  const local = explainPlan(
    linearPlan(8, localSgd({ tau: 4 }), { compress: qsgd({ levels: 3 }) }),
  );
  deepEqual(local.bytesPerStep, { ...ZERO, compressed: (7 * 383) / 4 });
});

Deno.test("explainPlan: DQ-SGD and top-k are all-gathered too", () => {
  const dq = explainPlan(linearPlan(8, allReduce(), { compress: dqSgd({ budgetBits: 3 }) }));
  equal(dq.bytesPerStep?.compressed, 7 * 508);
  const sparse = explainPlan(linearPlan(8, allReduce(), { compress: topK({ k: 10 }) }));
  equal(sparse.bytesPerStep?.compressed, 7 * 53);
});

Deno.test("explainPlan: sketchedSgd all-reduces rows·cols floats (plus p2·k exact values)", () => {
  const sketch = explainPlan(
    linearPlan(8, allReduce(), { compress: sketchedSgd({ k: 10, rows: 5, cols: 100 }) }),
  );
  // 2·7/8 · 500 · 4.
  deepEqual(sketch.bytesPerStep, { ...ZERO, compressed: 3500 });
  const twoRound = explainPlan(
    linearPlan(8, allReduce(), { compress: sketchedSgd({ k: 10, rows: 5, cols: 100, p2: 2 }) }),
  );
  // + 2·7/8 · 20 · 4 for the exact values of p2·k = 20 candidates.
  equal(twoRound.bytesPerStep?.compressed, 3500 + 140);
});

Deno.test("explainPlan: sketchedSgd's second round fetches at most the d values there are", () => {
  // p2·k = 3·1000 candidates asked of a model with D = 1000 parameters: the runtime fetches 1000,
  // so the plan counts 2·7/8 · 1000 · 4 = 7000 bytes for them, not 21,000.
  const plan = linearPlan(8, allReduce(), {
    compress: sketchedSgd({ k: D, rows: 5, cols: 100, p2: 3 }),
  });
  equal(explainPlan(plan).bytesPerStep?.compressed, 3500 + 2 * 7 / 8 * D * 4);
});

Deno.test("explainPlan: a single worker sends nothing", () => {
  const cases: [BaseNode, { compress?: CompressorNode; outer?: OuterNode }][] = [
    [allReduce(), {}],
    [localSgd({ tau: 2 }), {}],
    [gossip(ring), {}],
    [sgp(exponential), {}],
    [gossip(onePeerExponential), {}],
    [cada({ c: 0 }), {}],
    [allReduce(), { compress: qsgd() }],
    [allReduce(), { compress: sketchedSgd({ k: 10 }) }],
    [gossip(ring), { outer: slowMo({ tau: 5 }) }],
  ];
  for (const [base, extra] of cases) {
    const e = explainPlan(linearPlan(1, base, extra));
    deepEqual(e.bytesPerStep, ZERO, `${base.kind} ${JSON.stringify(extra)}`);
    equal(e.allReduceBytesPerStep, 0);
  }
});

Deno.test("explainPlan: mlp [128] on mnist over 8 workers", () => {
  const plan = train(mlp({ hidden: [128] }))
    .data(mnist())
    .workers(8)
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .compile();
  const e = explainPlan(plan);
  equal(e.parameters, 101_770);
  // 2·7/8 · 4 = 7 bytes per parameter.
  equal(e.bytesPerStep?.base, 7 * 101_770);
});

Deno.test("explainPlan: unknown model size gives no byte estimates, but a period", () => {
  const plan = train(custom({ module: "./model.ts" }))
    .data(mnist())
    .workers(4)
    .optimizer(sgd({ lr: 0.1 }))
    .base(localSgd({ tau: 6 }))
    .compile();
  const e = explainPlan(plan);
  equal(e.parameters, null);
  equal(e.bytesPerStep, null);
  equal(e.allReduceBytesPerStep, null);
  equal(e.syncPeriod, 6);
  deepEqual(e.notes, ["model size is known only once the data file or model module is loaded"]);
});

Deno.test("explainPlan: chain names every filled slot in order", () => {
  const plan = train(mlp({ hidden: [128] }))
    .data(mnist({ partition: "dirichlet", alpha: 0.5 }))
    .workers(8)
    .optimizer(sgd({ lr: 0.1 }))
    .base(gossip(ring))
    .outer(slowMo({ beta: 0.7, tau: 12 }))
    .steps(600)
    .compile();
  deepEqual(explainPlan(plan).chain, [
    {
      slot: "data",
      label:
        "mnist(partition=dirichlet(alpha=0.5), trainSize=8000, testSize=2000, batchSize=32) → classification, 784 features, 10 classes",
    },
    { slot: "model", label: "mlp(hidden=[128], activation=relu)" },
    {
      slot: "optimizer",
      label: "sgd(lr=0.1, momentum=0, nesterov=false, weightDecay=0)",
    },
    { slot: "base", label: "gossip(ring) on 8 workers" },
    { slot: "outer", label: "slowMo(tau=12, beta=0.7, alpha=1, buffers=keep)" },
  ]);
});

Deno.test("explainPlan: chain labels schedules, compressors, networks and one worker", () => {
  const plan = train(linear({ dim: 4 }))
    .data(synthetic({ task: "regression", features: 4 }))
    .optimizer(sgd({ lr: warmup({ steps: 5, then: cosine({ lr: 0.1, steps: 50 }) }) }))
    .base(allReduce())
    .compress(qsgd({ levels: 3 }))
    .network(network({ bandwidth: "100Mbit", latency: "5ms" }))
    .compile();
  deepEqual(explainPlan(plan).chain, [
    {
      slot: "data",
      label:
        "synthetic(task=regression, features=4, classes=1, trainSize=4096, testSize=1024, batchSize=32, heterogeneity=0, noise=0.05, seed=null) → regression, 4 features",
    },
    { slot: "model", label: "linear(dim=4, init=zeros)" },
    {
      slot: "optimizer",
      label:
        "sgd(lr=warmup(5, then cosine(0.1→0 over 50)), momentum=0, nesterov=false, weightDecay=0)",
    },
    { slot: "base", label: "allReduce() on 1 worker" },
    { slot: "compress", label: "qsgd(levels=3, bucket=512)" },
    {
      slot: "network",
      label:
        "network(bandwidthBitsPerSecond=100000000, latencyMs=5, jitterMs=0, links=[], stragglers=null, computeMs=null)",
    },
  ]);
});

Deno.test("explainPlan: chain labels topologies with their shape and other schedules", () => {
  const plan = train(mlp({ hidden: [16] }))
    .data(mnist())
    .workers(8)
    .optimizer(sgd({ lr: stepDecay({ lr: 0.1, factor: 0.5, every: 10 }) }))
    .base(dmSgd(torus({ rows: 2, cols: 4 }), { beta: 0.8 }))
    .compile();
  const labels = explainPlan(plan).chain.map((entry) => entry.label);
  equal(
    labels[2],
    "sgd(lr=stepDecay(0.1×0.5 every 10), momentum=0, nesterov=false, weightDecay=0)",
  );
  equal(labels[3], "dmSgd(torus 2×4, beta=0.8) on 8 workers");
  const withAdam = train(mlp({ hidden: [16] }))
    .data(mnist())
    .optimizer(adam({ lr: cosine({ lr: 0.01, minLr: 0.001 }) }))
    .base(gossip(star({ hub: 0 })))
    .compile();
  equal(
    explainPlan(withAdam).chain[2]?.label,
    "adam(lr=cosine(0.01→0.001), beta1=0.9, beta2=0.999, eps=1e-8, biasCorrection=true, amsgrad=false, weightDecay=0)",
  );
  equal(explainPlan(withAdam).chain[3]?.label, "gossip(star) on 1 worker");
});

Deno.test("explainPlan says how the workers agree: exact averages, fragments in turn, sparse codes", () => {
  // An MLP of three layers: six variables, enough for four fragments.
  const sync = (outer: OuterNode) =>
    explainPlan(
      train(mlp({ hidden: [16, 16] })).data(synthetic({ task: "classification", features: 10 }))
        .workers(4).optimizer(sgd({ lr: 0.1 })).base(localSgd({ tau: 20 })).outer(outer).compile(),
    ).synchronisation;
  equal(sync(diloco({ tau: 20 })), "exact average every 20 steps");
  equal(
    sync(streamingDiloco({ tau: 20, fragments: 4, overlap: 1, bits: 4 })),
    "each of 4 fragments every 20 steps, one every 5 (4-bit pseudo-gradients, overlapped with 1 step)",
  );
  equal(
    sync(sparseLoco({ tau: 20, k: 2, chunk: 8 })),
    "every 20 steps every worker restarts from the same global model, moved by the average of " +
      "the workers' top 2 of every 8 error-feedback values at 2 bits (not an exact average)",
  );
  equal(
    explainPlan(linearPlan(4, gossip(ring))).synchronisation,
    "decentralized, workers agree only approximately (no exact average)",
  );
});
