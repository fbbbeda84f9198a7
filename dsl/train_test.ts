import { deepEqual, equal, notEqual, ok, throws } from "node:assert/strict";
import { customTopology, ring, torus } from "../topologies/mod.ts";
import { allReduce, gossip, localSgd } from "./bases/mod.ts";
import { qsgd } from "./compressors/mod.ts";
import { leastSquares, mnist, synthetic } from "./data/mod.ts";
import { cnn, custom, linear, mlp } from "./models/mod.ts";
import { type Bandwidth, network } from "./network.ts";
import { sgd } from "./optimizers/mod.ts";
import { slowMo } from "./outers/mod.ts";
import type { DataNode, MlpNode, ModelNode, OuterNode, Plan, SgdNode } from "./plan.ts";
import { cosine, warmup } from "./schedules.ts";
import { DEFAULT_STEPS, isPipeline, Pipeline, train } from "./train.ts";
import { PlanError } from "./validate.ts";

/** The smallest complete pipeline: 4 weights, 4-feature regression, plain SGD, all-reduce. */
function tiny() {
  return train(linear({ dim: 4 }))
    .data(synthetic({ task: "regression", features: 4 }))
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce());
}

/** Names of the top-level plan fields whose values differ. */
function changedFields(a: Plan, b: Plan): string[] {
  return Object.keys(a).filter((key) =>
    JSON.stringify(a[key as keyof Plan]) !== JSON.stringify(b[key as keyof Plan])
  );
}

/** Runs `compile()` and returns the PlanError it throws. */
function compileError(pipeline: { compile(): Plan }): PlanError {
  try {
    pipeline.compile();
  } catch (error) {
    if (error instanceof PlanError) return error;
    throw error;
  }
  throw new Error("compile() did not throw");
}

Deno.test("compile fills every default", () => {
  equal(DEFAULT_STEPS, 100);
  deepEqual(tiny().compile(), {
    version: 1,
    model: { kind: "linear", dim: 4, init: "zeros" },
    data: {
      kind: "synthetic",
      task: "regression",
      features: 4,
      classes: 1,
      trainSize: 4096,
      testSize: 1024,
      batchSize: 32,
      heterogeneity: 0,
      noise: 0.05,
      seed: null,
    },
    workers: 1,
    optimizer: {
      kind: "sgd",
      lr: { kind: "constant", lr: 0.1 },
      momentum: 0,
      nesterov: false,
      weightDecay: 0,
    },
    base: { kind: "allReduce" },
    compress: null,
    outer: null,
    network: null,
    elastic: null,
    steps: 100,
    evalEvery: 10,
    seed: 0,
  });
});

Deno.test("compile: evalEvery defaults to round(steps / 10), at least 1", () => {
  const expected: [steps: number, evalEvery: number][] = [
    [1, 1],
    [4, 1], // round(0.4) = 0 → 1
    [5, 1], // round(0.5) = 1
    [14, 1],
    [15, 2], // round(1.5) = 2
    [25, 3], // round(2.5) = 3
    [100, 10],
    [600, 60],
    [1234, 123],
  ];
  for (const [steps, evalEvery] of expected) {
    equal(tiny().steps(steps).compile().evalEvery, evalEvery, `steps ${steps}`);
  }
  // The default follows the last steps() call, and an explicit value wins.
  equal(tiny().steps(50).steps(300).compile().evalEvery, 30);
  equal(tiny().evalEvery(7).steps(300).compile().evalEvery, 7);
});

Deno.test("compile keeps what was set", () => {
  const plan = tiny().workers(4).steps(40).evalEvery(5).seed(12345).compile();
  equal(plan.workers, 4);
  equal(plan.steps, 40);
  equal(plan.evalEvery, 5);
  equal(plan.seed, 12345);
  deepEqual(changedFields(tiny().compile(), plan), ["workers", "steps", "evalEvery", "seed"]);
});

Deno.test("a half-built pipeline can be branched two ways without changing it", () => {
  const half = train(mlp({ hidden: [32] })).data(mnist()).workers(4);
  const first = half.optimizer(sgd({ lr: 0.1 })).base(allReduce());
  const firstPlan = first.compile();

  const second = half
    .optimizer(sgd({ lr: 0.05, momentum: 0.9 }))
    .base(gossip(ring))
    .steps(300);
  const secondPlan = second.compile();

  // The first branch, and the shared prefix, are unchanged by building the second.
  deepEqual(first.compile(), firstPlan);
  deepEqual(half.optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile(), firstPlan);
  equal(firstPlan.steps, 100);
  deepEqual(firstPlan.base, { kind: "allReduce" });
  deepEqual(firstPlan.optimizer, {
    kind: "sgd",
    lr: { kind: "constant", lr: 0.1 },
    momentum: 0,
    nesterov: false,
    weightDecay: 0,
  });

  // The plans differ exactly where the branches differ (evalEvery follows steps).
  deepEqual(changedFields(firstPlan, secondPlan), ["optimizer", "base", "steps", "evalEvery"]);
  deepEqual(secondPlan.base, { kind: "gossip", topology: { kind: "ring" } });
  equal((secondPlan.optimizer as SgdNode).momentum, 0.9);
  equal(secondPlan.steps, 300);
  equal(secondPlan.evalEvery, 30);
  equal(secondPlan.workers, 4);
});

Deno.test("every builder method returns a new pipeline", () => {
  const start = train(linear({ dim: 4 }));
  const withData = start.data(synthetic({ task: "regression", features: 4 }));
  ok(withData instanceof Pipeline);
  notEqual(withData, start);
  const a = withData.optimizer(sgd({ lr: 0.1 })).base(allReduce());
  for (
    const next of [
      a.workers(2),
      a.steps(10),
      a.evalEvery(3),
      a.seed(1),
      a.outer(slowMo({ tau: 5 })),
    ]
  ) {
    notEqual(next, a);
  }
  // Replacing a slot in a branch does not touch the original.
  const b = a.base(localSgd({ tau: 4 }));
  deepEqual(a.compile().base, { kind: "allReduce" });
  deepEqual(b.compile().base, { kind: "localSgd", tau: 4, buffers: "keep" });
});

Deno.test("the plan and every nested node are frozen; assignments throw", () => {
  const plan = train(mlp({ hidden: [64, 32] }))
    .data(mnist({ partition: "dirichlet", alpha: 0.3 }))
    .workers(8)
    .optimizer(sgd({ lr: warmup({ steps: 5, then: cosine({ lr: 0.1 }) }) }))
    .base(gossip(torus({ rows: 2, cols: 4 })))
    .outer(slowMo({ tau: 10 }))
    .network(network({ latency: "1ms", stragglers: { ranks: [3], slowdown: 2 } }))
    .compile();
  const nested: [string, unknown][] = [
    ["plan", plan],
    ["model", plan.model],
    ["model.hidden", (plan.model as MlpNode).hidden],
    ["data", plan.data],
    ["data.partition", (plan.data as { partition: object }).partition],
    ["optimizer", plan.optimizer],
    ["optimizer.lr", plan.optimizer.lr],
    ["optimizer.lr.then", (plan.optimizer.lr as { then: object }).then],
    ["base", plan.base],
    ["base.topology", (plan.base as { topology: object }).topology],
    ["outer", plan.outer],
    ["network", plan.network],
    ["network.stragglers", plan.network?.stragglers],
    ["network.stragglers.ranks", plan.network?.stragglers?.ranks],
  ];
  for (const [path, value] of nested) ok(Object.isFrozen(value), `${path} is frozen`);

  // ES modules are strict, so writing to a frozen object throws.
  throws(() => {
    (plan as { workers: number }).workers = 3;
  }, TypeError);
  throws(() => {
    (plan.optimizer as { momentum: number }).momentum = 0.9;
  }, TypeError);
  throws(() => {
    ((plan.model as MlpNode).hidden as number[]).push(10);
  }, TypeError);
  throws(() => {
    delete (plan as { outer?: unknown }).outer;
  }, TypeError);
  equal(plan.workers, 8);
  deepEqual((plan.model as MlpNode).hidden, [64, 32]);
});

Deno.test("factory nodes are frozen too", () => {
  const data = mnist({ partition: "byLabel" });
  ok(Object.isFrozen(data) && Object.isFrozen(data.partition));
  const model = cnn();
  ok(Object.isFrozen(model.filters) && Object.isFrozen(model.dense));
  throws(() => {
    (model.dense as number[])[0] = 1;
  }, TypeError);
});

Deno.test("a plan survives JSON unchanged", () => {
  const topology = customTopology([[0.5, 0.5], [0.5, 0.5]], { name: "pair" });
  const plans: Plan[] = [
    tiny().compile(),
    train(mlp({ hidden: [16] }))
      .data(mnist({ partition: "byLabel", classesPerWorker: 3, trainSize: 100, testSize: 50 }))
      .workers(2)
      .optimizer(sgd({ lr: warmup({ steps: 3, then: cosine({ lr: 0.2, minLr: 0.01 }) }) }))
      .base(gossip(topology))
      .outer(slowMo({ tau: 4, beta: 0.6 }))
      .network(network({ bandwidth: "1Gbit/s", jitter: "200us", stragglers: { slowdown: 1.5 } }))
      .steps(40)
      .seed(7)
      .compile(),
    tiny().workers(4).base(localSgd({ tau: 2 })).compress(qsgd({ bits: 2 })).compile(),
  ];
  for (const plan of plans) {
    deepEqual(JSON.parse(JSON.stringify(plan)), plan);
    deepEqual(structuredClone(plan), plan);
  }
});

Deno.test("URLs in leastSquares and custom become plain strings", () => {
  const plan = train(linear({ dim: 3 }))
    .data(leastSquares({ file: new URL("file:///tmp/some%20dir/shards.json") }))
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .compile();
  equal(plan.data.kind, "leastSquares");
  equal((plan.data as { file: unknown }).file, "/tmp/some dir/shards.json");

  const remote = leastSquares({ file: new URL("https://example.com/shards.json") });
  equal(remote.file, "https://example.com/shards.json");

  const model = train(custom({ module: new URL("file:///tmp/model.ts"), export: "build" }))
    .data(mnist())
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .compile().model;
  deepEqual(model, { kind: "custom", module: "file:///tmp/model.ts", export: "build" });

  // A hand-built node holding a URL object still compiles to a string (through JSON).
  const raw = { kind: "leastSquares", file: new URL("file:///tmp/raw.json") };
  const fromRaw = train(linear({ dim: 3 }))
    .data(raw as unknown as DataNode)
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .compile();
  equal(typeof (fromRaw.data as { file: unknown }).file, "string");
  equal((fromRaw.data as { file: unknown }).file, "file:///tmp/raw.json");
});

Deno.test("compile drops undefined fields of hand-built nodes", () => {
  const outer = { kind: "slowMo", tau: 5, beta: 0.5, alpha: 1, buffers: "keep", note: undefined };
  const plan = tiny().outer(outer as OuterNode).compile();
  deepEqual(plan.outer, { kind: "slowMo", tau: 5, beta: 0.5, alpha: 1, buffers: "keep" });
  ok(!("note" in (plan.outer as object)));
});

Deno.test("compile throws a PlanError listing each issue with its path", () => {
  const one = compileError(tiny().workers(0));
  deepEqual(one.issues, [
    { path: "workers", message: "must be at least 1", expected: ">=1", received: "0" },
  ]);
  equal(one.name, "PlanError");
  equal(
    one.message,
    "Cannot compile plan: 1 issue\nworkers: must be at least 1 (expected >=1, received 0)",
  );
  ok(one instanceof Error);

  const two = compileError(tiny().workers(0).steps(0));
  deepEqual(two.issues.map((issue) => issue.path), ["workers", "steps"]);
  equal(
    two.message,
    "Cannot compile plan: 2 issues\n" +
      "workers: must be at least 1 (expected >=1, received 0)\n" +
      "steps: must be at least 1 (expected >=1, received 0)",
  );

  const cross = compileError(tiny().base(localSgd({ tau: 3 })).outer(slowMo({ tau: 10 })));
  deepEqual(cross.issues, [
    {
      path: "outer.tau",
      message: "slowMo tau 10 is not a multiple of localSgd tau 3",
      expected: "a multiple of 3",
      received: "10",
    },
  ]);
});

Deno.test("compile rejects missing slots when the types are bypassed", () => {
  const bare = train(linear({ dim: 4 })) as unknown as { compile(): Plan };
  const error = compileError(bare);
  deepEqual(
    error.issues.map(({ path, expected, received }) => ({ path, expected, received })),
    [
      { path: "data", expected: "Object", received: "null" },
      { path: "optimizer", expected: "Object", received: "null" },
      { path: "base", expected: "Object", received: "null" },
    ],
  );
});

Deno.test("compile rejects values that JSON cannot carry", () => {
  // NaN and Infinity are reported as such, not turned into JSON's null.
  const error = compileError(tiny().steps(Number.NaN));
  deepEqual(error.issues.map((issue) => [issue.path, issue.message, issue.received]), [
    ["steps", "wrong type", '"NaN"'],
    ["evalEvery", "wrong type", '"NaN"'],
  ]);
  const infinite = compileError(tiny().workers(Infinity));
  deepEqual(infinite.issues.map((issue) => [issue.path, issue.received]), [
    ["workers", '"Infinity"'],
  ]);
});

Deno.test("isPipeline tells builders from plans", () => {
  ok(isPipeline(train(linear({ dim: 4 }))));
  ok(isPipeline(tiny()));
  ok(isPipeline({ compile: () => null }));
  const plan = tiny().compile();
  ok(!isPipeline(plan));
  for (const value of [null, undefined, 42, "compile", [], { compile: 1 }]) {
    ok(!isPipeline(value), JSON.stringify(value) ?? String(value));
  }
  // A function with a compile method is not an object.
  const fn = Object.assign(() => {}, { compile: () => plan });
  ok(!isPipeline(fn));
});

Deno.test("model nodes passed to train are kept as given", () => {
  const model: ModelNode = { kind: "mlp", hidden: [5], activation: "tanh" };
  const plan = train(model).data(mnist()).optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
  deepEqual(plan.model, { kind: "mlp", hidden: [5], activation: "tanh" });
});

Deno.test("compile rejects network text that is not a bandwidth, in the words it was written", () => {
  // The node holds NaN (never "unlimited"); the issue names the option as written in the DSL.
  const error = compileError(tiny().network(network({ bandwidth: "100 Mbps" as Bandwidth })));
  deepEqual(error.issues, [{
    path: "network.bandwidth",
    message: '"100 Mbps" is not a bandwidth',
    expected: 'bits per second, or text such as "100Mbit", "1Gbit/s"',
    received: '"100 Mbps"',
  }]);
});
