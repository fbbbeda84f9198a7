import { deepEqual, equal } from "node:assert/strict";
import { decentLaM, dmSgd, gossip, sgp } from "../bases/mod.ts";
import { allReduce, cada, localSgd, overlapLocalSgd } from "../bases/mod.ts";
import { synthetic } from "../data/mod.ts";
import { explainPlan } from "../explain.ts";
import { linear } from "../models/mod.ts";
import { sgd } from "../optimizers/mod.ts";
import { train } from "../train.ts";
import { validatePlan } from "../validate.ts";
import { compileIssues } from "../_testing.ts";
import { ring } from "../../topologies/mod.ts";
import { sparseLoco, sparseLocoCodeBytes } from "./sparse_loco.ts";

/** A linear model of `d` weights (and no bias: `d` parameters) on `workers` workers. */
function pipeline(d = 4, workers = 4) {
  return train(linear({ dim: d }))
    .data(synthetic({ task: "regression", features: d }))
    .workers(workers)
    .optimizer(sgd({ lr: 0.1 }));
}

/** The issues of a compiled plan whose outer node is replaced by `outer`, as `[path, message]`. */
function outerIssues(outer: Record<string, unknown>): [string, string][] {
  const plan = pipeline().base(allReduce()).compile();
  return validatePlan({ ...plan, outer }).map((found) => [found.path, found.message]);
}

Deno.test("sparseLoco: option ranges are checked with their names", () => {
  const node = sparseLoco({ tau: 4, k: 2, chunk: 8 });
  deepEqual(outerIssues({ ...node }), []);
  deepEqual(outerIssues({ ...node, k: 0 }), [["outer.k", "must be at least 1"]]);
  deepEqual(outerIssues({ ...node, k: 9 }), [[
    "outer.k",
    "sparseLoco keeps k 9 values per chunk of 8: k must be at most chunk",
  ]]);
  deepEqual(outerIssues({ ...node, k: 1, chunk: 1 }), [["outer.chunk", "must be at least 2"]]);
  for (const bits of [0, 9, 16, 2.5]) {
    deepEqual(outerIssues({ ...node, bits }), [[
      "outer.bits",
      "must be an integer from 1 to 8, or 32 for unquantized float32 values",
    ]]);
  }
  for (const bits of [1, 8, 32]) deepEqual(outerIssues({ ...node, bits }), []);
  deepEqual(outerIssues({ ...node, beta: 1 }), [["outer.beta", "must be less than 1"]]);
  deepEqual(outerIssues({ ...node, beta: 0 }), []);
  deepEqual(outerIssues({ ...node, lr: 0 }), [["outer.lr", "must be greater than 0"]]);
  deepEqual(outerIssues({ ...node, tau: 0 }), [["outer.tau", "must be at least 1"]]);
  deepEqual(outerIssues({ ...node, momentum: 0.9 }).map(([path]) => path), ["outer.momentum"]);
});

Deno.test("sparseLoco: wraps the bases diloco wraps, over local SGD at a multiple of its period", () => {
  for (
    const base of [allReduce(), localSgd({ tau: 2 }), gossip(ring), sgp(ring), dmSgd(ring)]
  ) {
    deepEqual(compileIssues(pipeline().base(base).outer(sparseLoco({ tau: 4, k: 1 }))), []);
  }
  deepEqual(
    compileIssues(pipeline().base(decentLaM(ring)).outer(sparseLoco({ tau: 4, k: 1 }))),
    [],
  );
  for (const base of [cada({ c: 1 }), overlapLocalSgd({ tau: 2 })]) {
    deepEqual(
      compileIssues(pipeline().base(base).outer(sparseLoco({ tau: 4, k: 1 })))
        .map((found) => found.message),
      [`sparseLoco cannot wrap ${base.kind}: ${base.kind} runs its own synchronisation`],
    );
  }
  deepEqual(
    compileIssues(pipeline().base(localSgd({ tau: 3 })).outer(sparseLoco({ tau: 10, k: 1 }))),
    [{
      path: "outer.tau",
      message: "sparseLoco tau 10 is not a multiple of localSgd tau 3",
      expected: "a multiple of 3",
      received: "10",
    }],
  );
  // The outer step has its own rate: a zero inner rate is no problem (unlike slowMo's).
  deepEqual(
    compileIssues(
      pipeline().optimizer(sgd({ lr: 0 })).base(allReduce()).outer(sparseLoco({ tau: 4, k: 1 })),
    ),
    [],
  );
});

Deno.test("sparseLoco: code bytes, by hand, for whole and short chunks and each bit width", () => {
  // d = 10 000 in chunks of 4096: 4096, 4096, 1808; k = 64 each; 12-bit indices.
  const node = sparseLoco({ tau: 10, k: 64 });
  equal(sparseLocoCodeBytes(node, 10_000), 3 * 4 + 192 * 12 / 8 + 192 * 2 / 8);
  // A short last chunk keeps all of its values when it has fewer than k: 50 + 50 + 30 kept,
  // 910 bits of indices (114 bytes) and 260 bits of levels (33 bytes), each padded once.
  equal(sparseLocoCodeBytes({ ...node, chunk: 100, k: 50 }, 230), 3 * 4 + 114 + 33);
  // 1 bit per level; 32 bits sends float32 values and no scale.
  equal(sparseLocoCodeBytes({ ...node, bits: 1 }, 4096), 4 + 64 * 12 / 8 + 64 / 8);
  equal(sparseLocoCodeBytes({ ...node, bits: 32 }, 4096), 64 * 4 + 64 * 12 / 8);
  // A chunk that is not a power of two: indices 0..2999 take 12 bits.
  equal(sparseLocoCodeBytes({ ...node, chunk: 3000, k: 3 }, 3000), 4 + Math.ceil(36 / 8) + 1);
});

Deno.test("explainPlan: sparseLoco all-gathers one code per worker every tau steps", () => {
  const d = 1000;
  // Chunks of 256, 256, 256, 232; k = 16 each: 64 kept, 8-bit indices, 2-bit levels.
  const code = 4 * 4 + 64 + 16;
  const outer = sparseLoco({ tau: 8, k: 16, chunk: 256 });
  const plan = pipeline(d, 5).base(localSgd({ tau: 8 })).outer(outer).compile();
  const explained = explainPlan(plan);
  equal(sparseLocoCodeBytes(outer, d), code);
  deepEqual(explained.bytesPerStep, {
    base: 0,
    outer: 4 * code / 8,
    compressed: 0,
    control: 0,
    state: 0,
  });
  equal(explained.syncPeriod, 8);
});
