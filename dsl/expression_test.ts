import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import {
  adam,
  adamw,
  allReduce,
  bmuf,
  cada,
  chocoGossip,
  cnn,
  complete,
  cosine,
  custom,
  decentLaM,
  diloco,
  dmSgd,
  dqSgd,
  exponential,
  fetchSgd,
  fromFile,
  gossip,
  leastSquares,
  linear,
  localSgd,
  logistic,
  mlp,
  mnist,
  network,
  onePeerExponential,
  overlapLocalSgd,
  qsgd,
  ring,
  sgd,
  sgp,
  sketchedSgd,
  slowMo,
  sparseLoco,
  star,
  stepDecay,
  streamingDiloco,
  synthetic,
  tensors,
  text,
  topK,
  torus,
  train,
  transformer,
  warmup,
} from "../mod.ts";
import { customTopology } from "../topologies/mod.ts";
import type { TopologyKind } from "../topologies/types.ts";
import { exampleFiles } from "../cli/examples_command.ts";
import { loadPlan } from "../runtime/load_plan.ts";
import { planExpression, planImports } from "./expression.ts";
import type {
  BaseKind,
  CompressorKind,
  DataKind,
  ModelKind,
  OptimizerKind,
  OuterKind,
  Plan,
  ScheduleNode,
} from "./plan.ts";

const ROOT = new URL("../", import.meta.url);
const MOD = new URL("mod.ts", ROOT).href;

/** The module a user would write: the imports, then the expression as the default export. */
function moduleText(plan: Plan): string {
  return `import { ${planImports(plan).join(", ")} } from "${MOD}";\n\n` +
    `export default ${planExpression(plan)};\n`;
}

/**
 * Writes each plan's module into a fresh folder, imports it, compiles its pipeline and checks
 * the result is deep-equal to the plan; returns the module paths (for type-checking them).
 */
async function assertRoundTrips(
  dir: string,
  plans: readonly (readonly [string, Plan])[],
): Promise<string[]> {
  const paths: string[] = [];
  for (const [name, plan] of plans) {
    const path = join(dir, `${name.replace(/[^a-zA-Z0-9]+/g, "_")}.ts`);
    await Deno.writeTextFile(path, moduleText(plan));
    const module = await import(pathToFileURL(path).href);
    assert.deepEqual(module.default.compile(), plan, `${name}:\n${planExpression(plan)}`);
    paths.push(path);
  }
  return paths;
}

/** Runs `fn` with a temporary folder that is removed afterwards. */
async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_expression_" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every example pipeline and plan file: `examples/`, its `demo/` and each experiment's folder. */
async function examplePlans(): Promise<[string, Plan][]> {
  const examples = new URL("examples/", ROOT);
  const folders = [examples, new URL("demo/", examples)];
  for await (const entry of Deno.readDir(new URL("experiments/", examples))) {
    if (entry.isDirectory) folders.push(new URL(`experiments/${entry.name}/`, examples));
  }
  const plans: [string, Plan][] = [];
  for (const folder of folders) {
    for (const file of await exampleFiles(folder)) {
      plans.push([relative(fileURLToPath(ROOT), file), await loadPlan(file)]);
    }
  }
  return plans;
}

/** A small valid pipeline to vary one slot at a time. */
function base() {
  return train(logistic()).data(synthetic()).workers(4).optimizer(sgd({ lr: 0.1 }));
}

/** Every node kind of every slot, at least once, most with options that are not defaults. */
function handMadePlans(presetPath: string): [string, Plan][] {
  const square = [[0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5], [0, 0, 0.5, 0.5]];
  const path = [[0.5, 0.5, 0, 0], [0.5, 0, 0.5, 0], [0, 0.5, 0, 0.5], [0, 0, 0.5, 0.5]];
  const swap = [[0.5, 0, 0, 0.5], [0, 0.5, 0.5, 0], [0, 0.5, 0.5, 0], [0.5, 0, 0, 0.5]];
  const lr = (schedule: number | ScheduleNode) =>
    base().optimizer(sgd({ lr: schedule })).base(allReduce()).compile();
  return [
    // Models.
    [
      "linear",
      train(linear({ dim: 8, init: "random" }))
        .data(synthetic({ task: "regression", features: 8, noise: 0.1, seed: 3 }))
        .optimizer(sgd({ lr: 0.01 }))
        .base(allReduce())
        .compile(),
    ],
    [
      "logistic sizes",
      train(logistic({ inputs: 32, classes: 10 })).data(synthetic()).optimizer(sgd({ lr: 1e-3 }))
        .base(allReduce()).compile(),
    ],
    [
      "mlp",
      train(mlp({ hidden: [64, 32], activation: "tanh" })).data(mnist()).optimizer(sgd({ lr: 0.1 }))
        .base(allReduce()).compile(),
    ],
    [
      "cnn",
      train(cnn({ filters: [4, 8], kernel: 3, dense: [32], activation: "elu" })).data(mnist())
        .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile(),
    ],
    [
      "custom model",
      train(custom({ module: "./my model.ts", export: "build" })).data(synthetic())
        .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile(),
    ],
    [
      "custom model URL",
      train(custom({ module: new URL("file:///models/net.ts") })).data(mnist())
        .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile(),
    ],
    [
      "transformer",
      train(transformer({ layers: 2, dModel: 32, heads: 4, context: 64, mlpRatio: 2 }))
        .data(text()).optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile(),
    ],
    // Data.
    [
      "mnist dirichlet",
      base().data(mnist({ partition: "dirichlet", alpha: 0.1, trainSize: 6000, testSize: 1000 }))
        .base(allReduce()).compile(),
    ],
    [
      "mnist byLabel",
      base().data(mnist({ partition: "byLabel", classesPerWorker: 2, batchSize: 16 }))
        .base(allReduce()).compile(),
    ],
    [
      "synthetic",
      base().data(
        synthetic({
          features: 16,
          classes: 3,
          trainSize: 512,
          testSize: 128,
          batchSize: 8,
          heterogeneity: 1,
          noise: 0,
          seed: 42,
        }),
      ).base(allReduce()).compile(),
    ],
    [
      "leastSquares",
      train(linear({ dim: 3 }))
        .data(leastSquares({ file: "examples/data/least_squares_4.json" }))
        .workers(4)
        .optimizer(sgd({ lr: 0.05 }))
        .base(allReduce())
        .compile(),
    ],
    [
      "text",
      train(transformer({ layers: 1, dModel: 16, heads: 2, context: 32 }))
        .data(
          text({
            file: "examples/data/tiny.txt",
            validation: 0.2,
            partition: "iid",
            batchSize: 4,
          }),
        )
        .workers(2)
        .optimizer(sgd({ lr: 0.05 }))
        .base(allReduce())
        .compile(),
    ],
    [
      "text defaults",
      train(transformer({ layers: 1, dModel: 8, heads: 1, context: 8 })).data(text())
        .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile(),
    ],
    ["tensors", base().data(tensors({ train: "data/train.npz" })).base(allReduce()).compile()],
    [
      "tensors options",
      base().data(
        tensors({
          train: { x: "x.npy", y: "y.npy" },
          test: "test.csv",
          features: "inputs",
          labels: "digit",
          classes: 5,
          partition: "byLabel",
          classesPerWorker: 3,
          batchSize: 4,
        }),
      ).base(allReduce()).compile(),
    ],
    [
      "tensors regression",
      train(linear({ dim: 3 })).data(
        tensors({ train: "r.safetensors", task: "regression", testSize: 10 }),
      ).workers(2).optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile(),
    ],
    // Schedules and optimizers.
    ["constant", lr(0.25)],
    ["stepDecay", lr(stepDecay({ lr: 0.5, every: 30 }))],
    ["stepDecay factor", lr(stepDecay({ lr: 0.5, factor: 0.5, every: 30 }))],
    ["cosine", lr(cosine({ lr: 0.3 }))],
    ["cosine options", lr(cosine({ lr: 0.3, minLr: 0.001, steps: 80 }))],
    ["warmup", lr(warmup({ steps: 10, then: 0.2 }))],
    ["warmup stepDecay", lr(warmup({ steps: 10, then: stepDecay({ lr: 0.2, every: 50 }) }))],
    [
      "sgd options",
      base().optimizer(sgd({ lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }))
        .base(allReduce()).compile(),
    ],
    [
      "adam",
      base().optimizer(
        adam({
          lr: cosine({ lr: 1e-3 }),
          beta1: 0.8,
          beta2: 0.99,
          eps: 1e-6,
          biasCorrection: false,
          amsgrad: true,
          weightDecay: 0.01,
        }),
      ).base(allReduce()).compile(),
    ],
    ["adamw", base().optimizer(adamw({ lr: 3e-4 })).base(allReduce()).compile()],
    [
      "adamw options",
      base().optimizer(
        adamw({
          lr: warmup({ steps: 10, then: cosine({ lr: 3e-4, minLr: 3e-5 }) }),
          beta1: 0.8,
          beta2: 0.99,
          eps: 1e-6,
          weightDecay: 0,
          clipNorm: 1,
        }),
      ).base(allReduce()).compile(),
    ],
    [
      "clipNorm",
      base().optimizer(adam({ lr: 0.01, clipNorm: 0.5 })).base(localSgd({ tau: 2 })).compile(),
    ],
    // Bases and topologies.
    ["localSgd", base().base(localSgd({ tau: 4, buffers: "reset" })).compile()],
    ["gossip ring", base().base(gossip(ring)).compile()],
    ["gossip torus", base().base(gossip(torus)).compile()],
    ["gossip torus rows", base().base(gossip(torus({ rows: 2 }))).compile()],
    ["gossip torus cols", base().base(gossip(torus({ cols: 4 }))).compile()],
    ["gossip complete", base().base(gossip(complete())).compile()],
    ["gossip star", base().base(gossip(star({ hub: 2 }))).compile()],
    ["gossip star default", base().base(gossip(star)).compile()],
    [
      "gossip custom",
      base().base(gossip(customTopology([square, swap], { name: "pairs" }))).compile(),
    ],
    [
      "gossip custom source",
      base().base(gossip(customTopology(path, { name: "p", source: "gone.json" }))).compile(),
    ],
    ["gossip fromFile", base().base(gossip(fromFile(presetPath))).compile()],
    ["sgp", base().base(sgp(exponential)).compile()],
    ["sgp onePeer", base().base(sgp(onePeerExponential())).compile()],
    ["dmSgd", base().base(dmSgd(ring, { beta: 0.8 })).compile()],
    ["dmSgd default", base().base(dmSgd(exponential)).compile()],
    ["chocoGossip", base().base(chocoGossip(ring, { gamma: 1 })).compile()],
    [
      "chocoGossip topK",
      base().base(chocoGossip(exponential, { gamma: 0.3 }))
        .compress(topK({ k: 5, errorFeedback: false })).compile(),
    ],
    [
      "chocoGossip qsgd",
      base().base(chocoGossip(torus({ rows: 2 }), { gamma: 0.5 })).compress(qsgd({ bits: 2 }))
        .compile(),
    ],
    ["decentLaM", base().base(decentLaM(onePeerExponential, { beta: 0.95 })).compile()],
    ["overlapLocalSgd", base().base(overlapLocalSgd({ tau: 3, alpha: 0.5, beta: 0.7 })).compile()],
    [
      "cada",
      base().base(
        cada({
          variant: 1,
          c: 2,
          dMax: 5,
          maxDelay: 20,
          beta1: 0.8,
          beta2: 0.99,
          eps: 1e-7,
          amsgrad: false,
        }),
      ).compile(),
    ],
    ["allReduce", base().base(allReduce()).compile()],
    // Compressors.
    ["qsgd", base().base(allReduce()).compress(qsgd()).compile()],
    ["qsgd bits", base().base(allReduce()).compress(qsgd({ bits: 2, bucket: 128 })).compile()],
    ["qsgd levels", base().base(allReduce()).compress(qsgd({ levels: 10 })).compile()],
    [
      "dqSgd",
      base().base(allReduce())
        .compress(dqSgd({ minBits: 1, maxBits: 6, budgetBits: 2.5, bucket: 256 })).compile(),
    ],
    [
      "sketchedSgd",
      base().base(allReduce()).compress(sketchedSgd({ k: 50, rows: 3, p2: 2, rho: 0.8 }))
        .compile(),
    ],
    [
      "fetchSgd",
      base().base(allReduce()).compress(fetchSgd({ cols: 40, k: 5, rows: 3, rho: 0.5 }))
        .compile(),
    ],
    [
      "topK",
      base().base(localSgd({ tau: 2 })).compress(topK({ k: 20, errorFeedback: false })).compile(),
    ],
    // Outer algorithms.
    [
      "slowMo",
      base().base(localSgd({ tau: 2 }))
        .outer(slowMo({ tau: 8, beta: 0.6, alpha: 0.5, buffers: "average" })).compile(),
    ],
    [
      "bmuf",
      base().base(localSgd({ tau: 2 }))
        .outer(bmuf({ tau: 8, blockLr: 0.9, blockMomentum: 0.5, nesterov: true })).compile(),
    ],
    ["bmuf default", base().base(allReduce()).outer(bmuf({ tau: 4 })).compile()],
    [
      "diloco",
      base().base(localSgd({ tau: 2 }))
        .outer(diloco({ tau: 8, lr: 1, momentum: 0.5, nesterov: false, buffers: "reset" }))
        .compile(),
    ],
    ["diloco default", base().base(gossip(ring)).outer(diloco({ tau: 4 })).compile()],
    [
      "sparseLoco",
      base().base(localSgd({ tau: 2 }))
        .outer(sparseLoco({ tau: 8, k: 3, chunk: 100, bits: 32, beta: 0.5, lr: 0.8 })).compile(),
    ],
    ["sparseLoco default", base().base(allReduce()).outer(sparseLoco({ tau: 4, k: 64 })).compile()],
    [
      "streamingDiloco",
      base().base(localSgd({ tau: 8 })).outer(
        streamingDiloco({
          tau: 8,
          fragments: 2,
          split: "balanced",
          overlap: 2,
          mix: 0.25,
          bits: 4,
          lr: 1,
          momentum: 0.5,
          nesterov: false,
        }),
      ).compile(),
    ],
    [
      "streamingDiloco default",
      base().base(gossip(ring)).outer(streamingDiloco({ tau: 4, fragments: 1 })).compile(),
    ],
    // The network and the builder's own calls.
    ["network empty", base().base(allReduce()).network(network()).compile()],
    [
      "network",
      base().base(gossip(ring)).network(
        network({
          bandwidth: 1_234_567,
          latency: "200us",
          jitter: 0.1,
          links: [
            { between: [0, 1], bandwidth: "1.5Mbit", latency: "20ms" },
            { between: [2, 3], jitter: "1s" },
          ],
          stragglers: { ranks: [1, 2], probability: 0.1, slowdown: 1.5, delay: "3ms" },
          computeMs: "2ms",
        }),
      ).compile(),
    ],
    [
      "network stragglers default",
      base().base(allReduce()).network(network({ bandwidth: "10kbit/s", stragglers: {} }))
        .compile(),
    ],
    [
      "builder",
      base().base(allReduce()).workers(1).steps(250).evalEvery(7).seed(4_000_000_000).compile(),
    ],
    ["builder steps", base().base(allReduce()).steps(100).evalEvery(1).compile()],
    // Elastic training and declared churn.
    ["elastic defaults", base().base(allReduce()).elastic({ minWorkers: 4 }).compile()],
    [
      "elastic",
      base().base(gossip(ring)).steps(1000)
        .elastic({ minWorkers: 2, maxWorkers: 8, rejoin: true, reshard: "spread" })
        .network(network({
          latency: "1ms",
          failures: [
            { worker: 2, leaveAt: 300, joinAt: 500 },
            { worker: 1, leaveAt: 400 },
            { probability: 0.001, seed: 9 },
          ],
        })).compile(),
    ],
    [
      "elastic without rejoin",
      base().base(allReduce()).elastic({ minWorkers: 3, maxWorkers: 4, rejoin: false })
        .network(network({ failures: [{ probability: 0.01 }] })).compile(),
    ],
  ];
}

/** The kinds a plan uses, by slot. */
function kindsOf(plan: Plan): string[] {
  const schedules = (s: ScheduleNode): string[] => [
    `schedule:${s.kind}`,
    ...(s.kind === "warmup" ? schedules(s.then) : []),
  ];
  return [
    `model:${plan.model.kind}`,
    `data:${plan.data.kind}`,
    `optimizer:${plan.optimizer.kind}`,
    ...schedules(plan.optimizer.lr),
    `base:${plan.base.kind}`,
    ...("topology" in plan.base ? [`topology:${plan.base.topology.kind}`] : []),
    ...(plan.compress === null ? [] : [`compress:${plan.compress.kind}`]),
    ...(plan.outer === null ? [] : [`outer:${plan.outer.kind}`]),
  ];
}

/** Every kind of every slot; `satisfies` makes a new kind a compile error here until listed. */
const ALL_KINDS = {
  model: { linear: 0, logistic: 0, mlp: 0, cnn: 0, transformer: 0, custom: 0 } satisfies Record<
    ModelKind,
    0
  >,
  data: { mnist: 0, synthetic: 0, leastSquares: 0, tensors: 0, text: 0 } satisfies Record<
    DataKind,
    0
  >,
  optimizer: { sgd: 0, adam: 0, adamw: 0 } satisfies Record<OptimizerKind, 0>,
  schedule: { constant: 0, stepDecay: 0, cosine: 0, warmup: 0 } satisfies Record<
    ScheduleNode["kind"],
    0
  >,
  base: {
    allReduce: 0,
    localSgd: 0,
    gossip: 0,
    sgp: 0,
    dmSgd: 0,
    decentLaM: 0,
    overlapLocalSgd: 0,
    cada: 0,
    chocoGossip: 0,
  } satisfies Record<BaseKind, 0>,
  topology: {
    ring: 0,
    torus: 0,
    exponential: 0,
    onePeerExponential: 0,
    complete: 0,
    star: 0,
    custom: 0,
  } satisfies Record<TopologyKind, 0>,
  compress: { qsgd: 0, dqSgd: 0, sketchedSgd: 0, fetchSgd: 0, topK: 0 } satisfies Record<
    CompressorKind,
    0
  >,
  outer: { slowMo: 0, bmuf: 0, diloco: 0, sparseLoco: 0, streamingDiloco: 0 } satisfies Record<
    OuterKind,
    0
  >,
};

Deno.test("every example pipeline and plan file prints as an expression that compiles back to it", async () => {
  const plans = await examplePlans();
  assert.ok(plans.some(([name]) => name.endsWith(".json")), "a JSON plan file is among them");
  assert.ok(plans.some(([name]) => name.startsWith("examples/experiments/")));
  assert.ok(plans.length >= 40, `expected every example, found ${plans.length}`);
  await withTempDir((dir) => assertRoundTrips(dir, plans));
});

Deno.test("a plan of every node kind of every slot round-trips, and the printouts type-check", async () => {
  await withTempDir(async (dir) => {
    const presetPath = join(dir, "pairs.json");
    const preset = [[0.5, 0.5, 0, 0], [0.5, 0, 0.5, 0], [0, 0.5, 0, 0.5], [0, 0, 0.5, 0.5]];
    await Deno.writeTextFile(presetPath, JSON.stringify({ name: "pairs", weights: preset }));
    const plans = handMadePlans(presetPath);

    const covered = new Set(plans.flatMap(([, plan]) => kindsOf(plan)));
    const missing = Object.entries(ALL_KINDS).flatMap(([slot, kinds]) =>
      Object.keys(kinds).map((kind) => `${slot}:${kind}`).filter((key) => !covered.has(key))
    );
    assert.deepEqual(missing, []);

    const paths = await assertRoundTrips(dir, plans);
    // What a user pastes must also type-check under the project's strict settings.
    const check = await new Deno.Command(Deno.execPath(), {
      args: [
        "check",
        "--quiet",
        "--no-lock",
        "--config",
        fileURLToPath(new URL("deno.json", ROOT)),
        ...paths,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(check.success, new TextDecoder().decode(check.stderr));
  });
});

Deno.test("a custom topology prints as fromFile while its file holds the same weights, else as the node", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "pair.json");
    await Deno.writeTextFile(path, JSON.stringify({ weights: [[0.5, 0.5], [0.5, 0.5]] }));
    const plan = train(logistic()).data(synthetic()).workers(2).optimizer(sgd({ lr: 0.1 }))
      .base(gossip(fromFile(path))).compile();
    assert.ok(planExpression(plan).includes(`.base(gossip(fromFile(${JSON.stringify(path)})))`));
    assert.ok(planImports(plan).includes("fromFile"));

    await Deno.writeTextFile(path, JSON.stringify({ weights: [[0.9, 0.1], [0.1, 0.9]] }));
    assert.ok(
      planExpression(plan).includes(
        `.base(gossip({ kind: "custom", name: "pair.json", source: "${path}", ` +
          "weights: [[[0.5, 0.5], [0.5, 0.5]]] }))",
      ),
    );
    assert.ok(!planImports(plan).includes("fromFile"));
    await assertRoundTrips(dir, [["changed preset", plan]]);
  });
});

Deno.test("a minimal plan prints every call that is not a default, and nothing else", () => {
  const plan = train(logistic()).data(synthetic()).optimizer(sgd({ lr: 0.1 })).base(allReduce())
    .compile();
  assert.equal(
    planExpression(plan),
    [
      "train(logistic())",
      "  .data(synthetic())",
      "  .optimizer(sgd({ lr: 0.1 }))",
      "  .base(allReduce())",
    ].join("\n"),
  );
  assert.deepEqual(planImports(plan), ["allReduce", "logistic", "sgd", "synthetic", "train"]);
});

Deno.test("a plan with many options prints each node's changed options in the factory's order", () => {
  const plan = train(cnn({ kernel: 3 }))
    .data(mnist({ batchSize: 64, partition: "dirichlet", alpha: 0.3 }))
    .workers(16)
    .optimizer(
      sgd({ lr: warmup({ steps: 20, then: cosine({ minLr: 0.01, lr: 0.2 }) }), weightDecay: 1e-4 }),
    )
    .base(dmSgd(torus({ rows: 4, cols: 4 }), { beta: 0.8 }))
    .outer(slowMo({ beta: 0.7, tau: 12, buffers: "reset" }))
    .network(network({
      latency: "2ms",
      bandwidth: "100Mbit",
      links: [{ between: [0, 1], bandwidth: 5e6 }],
      stragglers: { slowdown: 2, ranks: [3] },
      computeMs: 40,
    }))
    .steps(600)
    .evalEvery(50)
    .seed(7)
    .compile();
  assert.equal(
    planExpression(plan),
    [
      "train(cnn({ kernel: 3 }))",
      '  .data(mnist({ partition: "dirichlet", alpha: 0.3, batchSize: 64 }))',
      "  .workers(16)",
      "  .optimizer(sgd({ lr: warmup({ steps: 20, then: cosine({ lr: 0.2, minLr: 0.01 }) }), " +
      "weightDecay: 0.0001 }))",
      "  .base(dmSgd(torus({ rows: 4, cols: 4 }), { beta: 0.8 }))",
      '  .outer(slowMo({ tau: 12, beta: 0.7, buffers: "reset" }))',
      '  .network(network({ bandwidth: "100Mbit", latency: "2ms", ' +
      'links: [{ between: [0, 1], bandwidth: "5Mbit" }], stragglers: { ranks: [3], slowdown: 2 }, ' +
      "computeMs: 40 }))",
      "  .steps(600)",
      "  .evalEvery(50)",
      "  .seed(7)",
    ].join("\n"),
  );
  assert.deepEqual(
    planImports(plan),
    [
      "cnn",
      "cosine",
      "dmSgd",
      "mnist",
      "network",
      "slowMo",
      "sgd",
      "torus",
      "train",
      "warmup",
    ].sort(),
  );
});

Deno.test("options and calls equal to their defaults are left out", () => {
  const plan = train(cnn({ filters: [6, 16], kernel: 5, dense: [120, 84], activation: "relu" }))
    .data(
      mnist({ partition: "byLabel", classesPerWorker: 2, trainSize: 8000, testSize: 2000 }),
    )
    .workers(1)
    .optimizer(sgd({ lr: 0.1, momentum: 0, nesterov: false, weightDecay: 0 }))
    .base(localSgd({ tau: 4, buffers: "keep" }))
    .compress(qsgd({ bits: 4, bucket: 512 }))
    .outer(bmuf({ tau: 8, blockLr: 1, nesterov: false }))
    .network(network({ latency: 0, jitter: "0ms", links: [] }))
    .steps(100)
    .evalEvery(10)
    .seed(0)
    .compile();
  assert.equal(
    planExpression(plan),
    [
      "train(cnn())",
      '  .data(mnist({ partition: "byLabel" }))',
      "  .optimizer(sgd({ lr: 0.1 }))",
      "  .base(localSgd({ tau: 4 }))",
      "  .compress(qsgd())",
      "  .outer(bmuf({ tau: 8 }))",
      "  .network(network())",
    ].join("\n"),
  );
  const bases = [
    dmSgd(torus({}), { beta: 0.9 }),
    decentLaM(star({ hub: 0 })),
    sgp(ring()),
    overlapLocalSgd({ tau: 2, alpha: 0.2, beta: 0 }),
  ];
  assert.deepEqual(
    bases.map((node) => planExpression(base().base(node).compile()).split("\n")[4]),
    [
      "  .base(dmSgd(torus))",
      "  .base(decentLaM(star))",
      "  .base(sgp(ring))",
      "  .base(overlapLocalSgd({ tau: 2 }))",
    ],
  );
});
