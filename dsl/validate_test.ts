import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  complete,
  customTopology,
  exponential,
  onePeerExponential,
  ring,
  star,
  torus,
} from "../topologies/mod.ts";
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
import { leastSquares, mnist, synthetic } from "./data/mod.ts";
import { cnn, custom, linear, logistic, mlp } from "./models/mod.ts";
import { type Bandwidth, type Duration, network } from "./network.ts";
import { adam, sgd } from "./optimizers/mod.ts";
import { bmuf, diloco, slowMo } from "./outers/mod.ts";
import type { OptimizerNode, Plan } from "./plan.ts";
import { cosine, stepDecay, warmup } from "./schedules.ts";
import { train } from "./train.ts";
import { formatIssues, parsePlan, PlanError, type PlanIssue, validatePlan } from "./validate.ts";
import { compileIssues } from "./_testing.ts";

// ---------------------------------------------------------------------------------------------
// Helpers

/** Regression with a 4-weight linear model: the smallest valid plan. */
function regression(workers = 1) {
  return train(linear({ dim: 4 }))
    .data(synthetic({ task: "regression", features: 4 }))
    .workers(workers)
    .optimizer(sgd({ lr: 0.1 }));
}

/** MNIST with a small MLP on `workers` workers. */
function digits(workers = 8) {
  return train(mlp({ hidden: [16] })).data(mnist()).workers(workers);
}

/** Shorthand for an expected issue. */
function issue(path: string, message: string, expected: string, received: string): PlanIssue {
  return { path, message, expected, received };
}

/** A valid plan to patch. */
const VALID: Plan = regression().base(allReduce()).compile();

/** `VALID` with some top-level fields replaced. */
function patched(patch: Record<string, unknown>): unknown {
  return { ...VALID, ...patch };
}

// ---------------------------------------------------------------------------------------------
// Shapes and types

Deno.test("validatePlan: a compiled plan has no issues", () => {
  deepEqual(validatePlan(VALID), []);
  deepEqual(validatePlan(JSON.parse(JSON.stringify(VALID))), []);
});

Deno.test("validatePlan: non-objects are one issue at the root", () => {
  deepEqual(validatePlan(null), [issue("", "wrong type", "Object", "null")]);
  deepEqual(validatePlan(42), [issue("", "wrong type", "Object", "42")]);
  deepEqual(validatePlan("x"), [issue("", "wrong type", "Object", '"x"')]);
});

Deno.test("validatePlan: every missing top-level key is required", () => {
  const keys = [
    "version",
    "model",
    "data",
    "workers",
    "optimizer",
    "base",
    "compress",
    "outer",
    "network",
    "steps",
    "evalEvery",
    "seed",
  ];
  deepEqual(
    validatePlan({}),
    keys.map((key) => issue(key, "is required", `"${key}"`, "undefined")),
  );
  const { seed: _seed, ...noSeed } = VALID;
  deepEqual(validatePlan(noSeed), [issue("seed", "is required", '"seed"', "undefined")]);
});

Deno.test("validatePlan: missing keys inside nodes are required, with their path", () => {
  deepEqual(validatePlan(patched({ model: { kind: "linear", dim: 4 } })), [
    issue("model.init", "is required", '"init"', "undefined"),
  ]);
  deepEqual(validatePlan(patched({ base: { kind: "localSgd", tau: 2 } })), [
    issue("base.buffers", "is required", '"buffers"', "undefined"),
  ]);
  // Explicit-null fields are required too, not optional.
  deepEqual(validatePlan(patched({ model: { kind: "logistic", inputs: null } })), [
    issue("model.classes", "is required", '"classes"', "undefined"),
  ]);
});

Deno.test("validatePlan: unknown keys are reported at any depth, with the keys that exist", () => {
  const TOP = "version, model, data, workers, optimizer, base, compress, outer, network, " +
    "elastic, steps, evalEvery, seed";
  deepEqual(validatePlan(patched({ extra: 1 })), [
    issue("extra", "unknown key", `one of ${TOP}`, '"extra"'),
  ]);
  // A typo names the key it probably meant, among the keys of that node's own kind.
  deepEqual(validatePlan(patched({ optimizer: { ...VALID.optimizer, momentun: 0.9 } })), [
    issue(
      "optimizer.momentun",
      'unknown key; did you mean "momentum"?',
      "one of kind, lr, momentum, nesterov, weightDecay, clipNorm",
      '"momentun"',
    ),
  ]);
  deepEqual(
    validatePlan(
      patched({ optimizer: { ...VALID.optimizer, lr: { kind: "constant", lr: 1, x: 2 } } }),
    ),
    [issue("optimizer.lr.x", "unknown key", "one of kind, lr", '"x"')],
  );
});

Deno.test("validatePlan: unknown kinds list the kinds that exist", () => {
  deepEqual(validatePlan(patched({ base: { kind: "nope" } })), [
    issue(
      "base.kind",
      "unknown kind",
      '("allReduce" | "localSgd" | "gossip" | "sgp" | "dmSgd" | "decentLaM" | "overlapLocalSgd" | "cada" | "chocoGossip")',
      '"nope"',
    ),
  ]);
  deepEqual(validatePlan(patched({ base: { kind: "gossip", topology: { kind: "hypercube" } } })), [
    issue(
      "base.topology.kind",
      "unknown kind",
      '("ring" | "torus" | "exponential" | "onePeerExponential" | "complete" | "star" | "custom")',
      '"hypercube"',
    ),
  ]);
  deepEqual(
    validatePlan(patched({ optimizer: { ...VALID.optimizer, lr: { kind: "linear", lr: 1 } } })),
    [
      issue(
        "optimizer.lr.kind",
        "unknown kind",
        '("constant" | "stepDecay" | "cosine" | "warmup")',
        '"linear"',
      ),
    ],
  );
  deepEqual(validatePlan(patched({ compress: { kind: "signSgd" } })), [
    issue(
      "compress.kind",
      "unknown kind",
      '("qsgd" | "dqSgd" | "sketchedSgd" | "fetchSgd" | "topK")',
      '"signSgd"',
    ),
  ]);
});

Deno.test("validatePlan: wrong types say what was expected", () => {
  deepEqual(validatePlan(patched({ workers: "3" })), [
    issue("workers", "wrong type", "number", '"3"'),
  ]);
  deepEqual(validatePlan(patched({ optimizer: { ...VALID.optimizer, nesterov: "yes" } })), [
    issue("optimizer.nesterov", "wrong type", "boolean", '"yes"'),
  ]);
  deepEqual(validatePlan(patched({ model: { kind: "linear", dim: 4, init: "ones" } })), [
    issue("model.init", "wrong type", '("zeros" | "random")', '"ones"'),
  ]);
  deepEqual(validatePlan(patched({ steps: null })), [
    issue("steps", "wrong type", "number", "null"),
  ]);
  // Picklists of numbers too.
  const cadaNode = { ...cada({ c: 1 }), variant: 3 };
  deepEqual(validatePlan(patched({ base: cadaNode })), [
    issue("base.variant", "wrong type", "(1 | 2)", "3"),
  ]);
});

// ---------------------------------------------------------------------------------------------
// Numeric ranges

Deno.test("validatePlan: workers, steps, evalEvery and seed ranges", () => {
  deepEqual(validatePlan(patched({ workers: 0 })), [
    issue("workers", "must be at least 1", ">=1", "0"),
  ]);
  deepEqual(validatePlan(patched({ workers: 4097 })), [
    issue("workers", "must be at most 4096", "<=4096", "4097"),
  ]);
  deepEqual(validatePlan(patched({ steps: 0 })), [
    issue("steps", "must be at least 1", ">=1", "0"),
  ]);
  deepEqual(validatePlan(patched({ evalEvery: 0 })), [
    issue("evalEvery", "must be at least 1", ">=1", "0"),
  ]);
  deepEqual(validatePlan(patched({ seed: -1 })), [
    issue("seed", "must be at least 0", ">=0", "-1"),
  ]);
  deepEqual(validatePlan(patched({ seed: 2 ** 32 })), [
    issue("seed", "must be at most 4294967295", "<=4294967295", "4294967296"),
  ]);
  deepEqual(validatePlan(patched({ seed: 2 ** 32 - 1 })), []);
});

Deno.test("validatePlan: integers must be integers", () => {
  const [seed] = validatePlan(patched({ seed: 1.5 }));
  equal(seed?.path, "seed");
  equal(seed?.message, "must be an integer");
  equal(seed?.received, "1.5");
  const [workers] = validatePlan(patched({ workers: 2.5 }));
  equal(workers?.path, "workers");
  equal(workers?.message, "must be an integer");
});

Deno.test("validatePlan: version must be 1", () => {
  const issues = validatePlan(patched({ version: 2 }));
  equal(issues.length, 1);
  equal(issues[0]?.path, "version");
  equal(issues[0]?.expected, "1");
  equal(issues[0]?.received, "2");
});

Deno.test("validatePlan: optimizer ranges", () => {
  const sgdNode = VALID.optimizer;
  deepEqual(
    validatePlan(patched({ optimizer: { ...sgdNode, lr: { kind: "constant", lr: -0.1 } } })),
    [
      issue("optimizer.lr.lr", "must be at least 0", ">=0", "-0.1"),
    ],
  );
  deepEqual(validatePlan(patched({ optimizer: { ...sgdNode, momentum: 1 } })), [
    issue("optimizer.momentum", "must be less than 1", "<1", "1"),
  ]);
  deepEqual(validatePlan(patched({ optimizer: { ...sgdNode, momentum: -0.1 } })), [
    issue("optimizer.momentum", "must be at least 0", ">=0", "-0.1"),
  ]);
  deepEqual(validatePlan(patched({ optimizer: { ...sgdNode, weightDecay: -1 } })), [
    issue("optimizer.weightDecay", "must be at least 0", ">=0", "-1"),
  ]);
  deepEqual(validatePlan(patched({ optimizer: { ...adam({ lr: 0.1 }), eps: 0 } })), [
    issue("optimizer.eps", "must be greater than 0", ">0", "0"),
  ]);
  deepEqual(validatePlan(patched({ optimizer: { ...adam({ lr: 0.1 }), beta2: 1 } })), [
    issue("optimizer.beta2", "must be less than 1", "<1", "1"),
  ]);
  // Inside a warm-up, the nested path.
  const nested = warmup({ steps: 3, then: 0.1 });
  deepEqual(
    validatePlan(
      patched({
        optimizer: { ...sgdNode, lr: { ...nested, then: { kind: "constant", lr: -1 } } },
      }),
    ),
    [issue("optimizer.lr.then.lr", "must be at least 0", ">=0", "-1")],
  );
  deepEqual(
    validatePlan(
      patched({ optimizer: { ...sgdNode, lr: stepDecay({ lr: 1, factor: 1.5, every: 0 }) } }),
    ),
    [
      issue("optimizer.lr.factor", "must be at most 1", "<=1", "1.5"),
      issue("optimizer.lr.every", "must be at least 1", ">=1", "0"),
    ],
  );
});

Deno.test("validatePlan: compressor ranges", () => {
  deepEqual(validatePlan(patched({ compress: { kind: "qsgd", levels: 0, bucket: 0 } })), [
    issue("compress.levels", "must be at least 1", ">=1", "0"),
    issue("compress.bucket", "must be at least 1", ">=1", "0"),
  ]);
  deepEqual(validatePlan(patched({ compress: { ...qsgd(), levels: 65536 } })), [
    issue("compress.levels", "must be at most 65535", "<=65535", "65536"),
  ]);
  deepEqual(validatePlan(patched({ compress: { ...dqSgd(), maxBits: 17 } })), [
    issue("compress.maxBits", "must be at most 16", "<=16", "17"),
  ]);
  deepEqual(validatePlan(patched({ compress: { ...sketchedSgd({ k: 2 }), rho: 1 } })), [
    issue("compress.rho", "must be less than 1", "<1", "1"),
  ]);
});

Deno.test("validatePlan: base, outer, data and network ranges", () => {
  deepEqual(validatePlan(patched({ base: { kind: "localSgd", tau: 0, buffers: "keep" } })), [
    issue("base.tau", "must be at least 1", ">=1", "0"),
  ]);
  deepEqual(validatePlan(patched({ outer: { ...slowMo({ tau: 5 }), alpha: 0 } })), [
    issue("outer.alpha", "must be greater than 0", ">0", "0"),
  ]);
  deepEqual(validatePlan(patched({ outer: { ...bmuf({ tau: 5 }), blockMomentum: 1 } })), [
    issue("outer.blockMomentum", "must be less than 1", "<1", "1"),
  ]);
  deepEqual(validatePlan(patched({ outer: { ...diloco({ tau: 5 }), lr: 0 } })), [
    issue("outer.lr", "must be greater than 0", ">0", "0"),
  ]);
  deepEqual(validatePlan(patched({ outer: { ...diloco({ tau: 5 }), momentum: 1 } })), [
    issue("outer.momentum", "must be less than 1", "<1", "1"),
  ]);
  deepEqual(validatePlan(patched({ data: { ...VALID.data, heterogeneity: 2 } })), [
    issue("data.heterogeneity", "must be at most 1", "<=1", "2"),
  ]);
  const digitsPlan = { ...VALID, model: mlp({ hidden: [4] }) };
  deepEqual(
    validatePlan({ ...digitsPlan, data: mnist({ partition: "dirichlet", alpha: 0 }) }),
    [issue("data.partition.alpha", "must be greater than 0", ">0", "0")],
  );
  deepEqual(validatePlan({ ...digitsPlan, data: mnist({ trainSize: 10001 }) }), [
    issue("data.trainSize", "must be at most 10000", "<=10000", "10001"),
  ]);
  const stragglers = network({ stragglers: { probability: 1.5, slowdown: 0.5 } });
  deepEqual(validatePlan(patched({ network: stragglers })), [
    issue("network.stragglers.probability", "must be at most 1", "<=1", "1.5"),
    issue("network.stragglers.slowdown", "must be at least 1", ">=1", "0.5"),
  ]);
  deepEqual(validatePlan(patched({ network: network({ latency: -5 }) })), [
    issue("network.latencyMs", "must be at least 0", ">=0", "-5"),
  ]);
  deepEqual(validatePlan(patched({ network: network({ bandwidth: 0 }) })), [
    issue("network.bandwidthBitsPerSecond", "must be greater than 0", ">0", "0"),
  ]);
  deepEqual(
    validatePlan(
      patched({
        base: {
          kind: "gossip",
          topology: { kind: "custom", name: "x", source: "inline", weights: [] },
        },
      }),
    ),
    [issue("base.topology.weights", "must hold at least one matrix", ">=1", "0")],
  );
});

Deno.test("validatePlan: network text that is not a quantity is rejected as written", () => {
  const bandwidth = validatePlan(patched({ network: network({ bandwidth: "fast" as Bandwidth }) }));
  deepEqual(bandwidth.map((found) => [found.path, found.received]), [
    ["network.bandwidth", '"fast"'],
  ]);
  const latency = validatePlan(patched({ network: network({ latency: "soon" as Duration }) }));
  deepEqual(latency.map((found) => [found.path, found.received]), [["network.latency", '"soon"']]);
  // Passed through JSON, the node's NaN is still refused, in the plan's own field.
  const plain = JSON.parse(
    JSON.stringify(
      network({ latency: "soon" as Duration }),
      (_, value) => typeof value === "number" && Number.isNaN(value) ? "NaN" : value,
    ),
  );
  deepEqual(validatePlan(patched({ network: plain })).map((found) => found.path), [
    "network.latencyMs",
  ]);
});

// ---------------------------------------------------------------------------------------------
// Cross-slot rules: model and data

Deno.test("rule: the model's task must match the data's", () => {
  deepEqual(
    compileIssues(
      train(linear({ dim: 784 })).data(mnist()).optimizer(sgd({ lr: 0.1 })).base(allReduce()),
    ),
    [
      issue(
        "model",
        "linear is a regression model but mnist data is for classification",
        "a classification model",
        '"linear"',
      ),
    ],
  );
  deepEqual(
    compileIssues(
      train(mlp({ hidden: [8] }))
        .data(synthetic({ task: "regression" }))
        .optimizer(sgd({ lr: 0.1 }))
        .base(allReduce()),
    ),
    [
      issue(
        "model",
        "mlp is a classification model but synthetic data is for regression",
        "a regression model",
        '"mlp"',
      ),
    ],
  );
  deepEqual(
    compileIssues(
      train(logistic()).data(leastSquares({ file: "x.json" })).optimizer(sgd({ lr: 0.1 })).base(
        allReduce(),
      ),
    ),
    [
      issue(
        "model",
        "logistic is a classification model but leastSquares data is for regression",
        "a regression model",
        '"logistic"',
      ),
    ],
  );
  // Custom models are checked when their module loads, not here.
  deepEqual(
    compileIssues(
      train(custom({ module: "./m.ts" })).data(synthetic({ task: "regression" })).optimizer(
        sgd({ lr: 0.1 }),
      ).base(allReduce()),
    ),
    [],
  );
});

Deno.test("rule: linear dim must match synthetic features", () => {
  deepEqual(
    compileIssues(
      train(linear({ dim: 3 }))
        .data(synthetic({ task: "regression", features: 4 }))
        .optimizer(sgd({ lr: 0.1 }))
        .base(allReduce()),
    ),
    [issue("model.dim", "linear dim 3 does not match the data's 4 features", "4", "3")],
  );
  // Least squares: only the file knows, so any dim passes.
  deepEqual(
    compileIssues(
      train(linear({ dim: 3 })).data(leastSquares({ file: "x.json" })).optimizer(sgd({ lr: 0.1 }))
        .base(allReduce()),
    ),
    [],
  );
});

Deno.test("rule: logistic inputs and classes must match the data", () => {
  deepEqual(
    compileIssues(
      train(logistic({ inputs: 100, classes: 5 })).data(mnist()).optimizer(sgd({ lr: 0.1 })).base(
        allReduce(),
      ),
    ),
    [
      issue(
        "model.inputs",
        "logistic inputs 100 does not match the data's 784 features",
        "784",
        "100",
      ),
      issue("model.classes", "logistic classes 5 does not match the data's 10 classes", "10", "5"),
    ],
  );
  deepEqual(
    compileIssues(
      train(logistic({ inputs: 784, classes: 10 })).data(mnist()).optimizer(sgd({ lr: 0.1 })).base(
        allReduce(),
      ),
    ),
    [],
  );
  deepEqual(
    compileIssues(
      train(logistic()).data(synthetic({ classes: 3 })).optimizer(sgd({ lr: 0.1 })).base(
        allReduce(),
      ),
    ),
    [],
  );
});

Deno.test("rule: cnn needs image data", () => {
  deepEqual(
    compileIssues(train(cnn()).data(synthetic()).optimizer(sgd({ lr: 0.1 })).base(allReduce())),
    [issue(
      "model",
      "cnn needs image data, but synthetic data is not images",
      "mnist data",
      '"synthetic"',
    )],
  );
});

Deno.test("rule: cnn kernel must leave at least one pixel after two conv + pool stages", () => {
  // 28 → 19 → 9 → 0: too large.
  deepEqual(
    compileIssues(
      train(cnn({ kernel: 10 })).data(mnist()).optimizer(sgd({ lr: 0.1 })).base(allReduce()),
    ),
    [issue(
      "model.kernel",
      "cnn kernel 10 is too large for 28×28 images",
      "a smaller kernel",
      "10",
    )],
  );
  deepEqual(
    compileIssues(
      train(cnn({ kernel: 29 })).data(mnist()).optimizer(sgd({ lr: 0.1 })).base(allReduce()),
    )
      .map((found) => found.message),
    ["cnn kernel 29 is too large for 28×28 images"],
  );
  // 28 → 20 → 10 → 2 → 1: fits.
  deepEqual(
    compileIssues(
      train(cnn({ kernel: 9 })).data(mnist()).optimizer(sgd({ lr: 0.1 })).base(allReduce()),
    ),
    [],
  );
});

Deno.test("rule: mnist trainSize + testSize fits in 10000 digits", () => {
  deepEqual(
    compileIssues(
      train(mlp({ hidden: [8] })).data(mnist({ trainSize: 9000, testSize: 2000 })).optimizer(
        sgd({ lr: 0.1 }),
      ).base(allReduce()),
    ),
    [
      issue(
        "data.trainSize",
        "mnist has 10000 digits but trainSize 9000 + testSize 2000 asks for 11000",
        "at most 8000",
        "9000",
      ),
    ],
  );
  deepEqual(
    compileIssues(
      train(mlp({ hidden: [8] })).data(mnist({ trainSize: 7000, testSize: 3000 })).optimizer(
        sgd({ lr: 0.1 }),
      ).base(allReduce()),
    ),
    [],
  );
});

Deno.test("rule: every worker gets at least one training example", () => {
  deepEqual(
    compileIssues(
      train(linear({ dim: 4 }))
        .data(synthetic({ task: "regression", features: 4, trainSize: 4 }))
        .workers(8)
        .optimizer(sgd({ lr: 0.1 }))
        .base(allReduce()),
    ),
    [
      issue(
        "data.trainSize",
        "trainSize 4 is smaller than workers 8: some workers would get no data",
        "at least 8",
        "4",
      ),
    ],
  );
  deepEqual(
    compileIssues(
      train(linear({ dim: 4 }))
        .data(synthetic({ task: "regression", features: 4, trainSize: 8 }))
        .workers(8)
        .optimizer(sgd({ lr: 0.1 }))
        .base(allReduce()),
    ),
    [],
  );
});

Deno.test("rule: byLabel classesPerWorker is at most the 10 mnist classes", () => {
  deepEqual(
    compileIssues(
      train(mlp({ hidden: [8] })).data(mnist({ partition: "byLabel", classesPerWorker: 11 }))
        .optimizer(sgd({ lr: 0.1 })).base(allReduce()),
    ),
    [
      issue(
        "data.partition.classesPerWorker",
        "byLabel classesPerWorker 11 is more than the 10 classes",
        "at most 10",
        "11",
      ),
    ],
  );
  deepEqual(
    compileIssues(
      train(mlp({ hidden: [8] })).data(mnist({ partition: "byLabel", classesPerWorker: 10 }))
        .optimizer(sgd({ lr: 0.1 })).base(allReduce()),
    ),
    [],
  );
});

Deno.test("rule: synthetic classification needs two classes", () => {
  deepEqual(
    compileIssues(
      train(logistic()).data(synthetic({ classes: 1 })).optimizer(sgd({ lr: 0.1 })).base(
        allReduce(),
      ),
    ),
    [issue("data.classes", "classification needs at least 2 classes", "at least 2", "1")],
  );
});

// ---------------------------------------------------------------------------------------------
// Cross-slot rules: optimizer and schedule

Deno.test("rule: dmSgd and decentLaM carry their own momentum", () => {
  // A momentum the types cannot see (a plain number), so only the validator catches it.
  const momentum = Number.parseFloat("0.9");
  deepEqual(
    compileIssues(digits().optimizer(sgd({ lr: 0.1, momentum })).base(dmSgd(ring))),
    [
      issue(
        "optimizer.momentum",
        "dmSgd carries its own momentum (beta): use sgd without momentum",
        "0",
        "0.9",
      ),
    ],
  );
  deepEqual(
    compileIssues(digits().optimizer(sgd({ lr: 0.1, momentum })).base(decentLaM(exponential))),
    [
      issue(
        "optimizer.momentum",
        "decentLaM carries its own momentum (beta): use sgd without momentum",
        "0",
        "0.9",
      ),
    ],
  );
  const anyOptimizer = adam({ lr: 0.01 }) as OptimizerNode;
  deepEqual(compileIssues(digits().optimizer(anyOptimizer).base(dmSgd(ring))), [
    issue(
      "optimizer",
      "dmSgd carries its own momentum (beta): use sgd without momentum",
      "sgd",
      '"adam"',
    ),
  ]);
  deepEqual(compileIssues(digits().optimizer(anyOptimizer).base(decentLaM(ring))), [
    issue(
      "optimizer",
      "decentLaM carries its own momentum (beta): use sgd without momentum",
      "sgd",
      '"adam"',
    ),
  ]);
  deepEqual(compileIssues(digits().optimizer(sgd({ lr: 0.1 })).base(dmSgd(ring))), []);
});

Deno.test("rule: cada takes only the learning rate from the optimizer", () => {
  const reason =
    "cada applies its own Adam update and takes only the learning rate from the optimizer: use sgd without momentum";
  deepEqual(
    compileIssues(digits().optimizer(sgd({ lr: 0.1, momentum: 0.9 })).base(cada({ c: 1 }))),
    [
      issue("optimizer.momentum", reason, "0", "0.9"),
    ],
  );
  deepEqual(compileIssues(digits().optimizer(adam({ lr: 0.01 })).base(cada({ c: 1 }))), [
    issue("optimizer", reason, "sgd", '"adam"'),
  ]);
  deepEqual(compileIssues(digits().optimizer(sgd({ lr: 0.1 })).base(cada({ c: 1 }))), []);
});

Deno.test("rule: sketchedSgd applies its own momentum", () => {
  const reason = "sketchedSgd applies its own momentum (rho): use sgd without momentum";
  const base = train(linear({ dim: 4 })).data(synthetic({ task: "regression", features: 4 }));
  deepEqual(
    compileIssues(
      base.optimizer(sgd({ lr: 0.1, momentum: 0.5 })).base(allReduce()).compress(
        sketchedSgd({ k: 2 }),
      ),
    ),
    [issue("optimizer.momentum", reason, "0", "0.5")],
  );
  deepEqual(
    compileIssues(
      base.optimizer(adam({ lr: 0.1 })).base(allReduce()).compress(sketchedSgd({ k: 2 })),
    ),
    [issue("optimizer", reason, "sgd", '"adam"')],
  );
  // Other compressors leave the optimizer alone.
  deepEqual(
    compileIssues(
      base.optimizer(sgd({ lr: 0.1, momentum: 0.5 })).base(allReduce()).compress(topK({ k: 2 })),
    ),
    [],
  );
});

Deno.test("rule: nesterov needs momentum", () => {
  deepEqual(
    compileIssues(regression().optimizer(sgd({ lr: 0.1, nesterov: true })).base(allReduce())),
    [
      issue("optimizer.nesterov", "nesterov needs momentum greater than 0", "false", "true"),
    ],
  );
  deepEqual(
    compileIssues(
      regression().optimizer(sgd({ lr: 0.1, momentum: 0.9, nesterov: true })).base(allReduce()),
    ),
    [],
  );
});

Deno.test("rule: cosine minLr is at most lr, also inside a warm-up", () => {
  deepEqual(
    compileIssues(
      regression().optimizer(sgd({ lr: cosine({ lr: 0.1, minLr: 0.2 }) })).base(allReduce()),
    ),
    [issue("optimizer.lr.minLr", "cosine minLr 0.2 is larger than lr 0.1", "at most 0.1", "0.2")],
  );
  deepEqual(
    compileIssues(
      regression()
        .optimizer(adam({ lr: warmup({ steps: 5, then: cosine({ lr: 0.1, minLr: 0.2 }) }) }))
        .base(allReduce()),
    ),
    [issue(
      "optimizer.lr.then.minLr",
      "cosine minLr 0.2 is larger than lr 0.1",
      "at most 0.1",
      "0.2",
    )],
  );
  deepEqual(
    compileIssues(
      regression().optimizer(sgd({ lr: cosine({ lr: 0.1, minLr: 0.1 }) })).base(allReduce()),
    ),
    [],
  );
});

// ---------------------------------------------------------------------------------------------
// Cross-slot rules: topologies

Deno.test("rule: a ring fits any number of workers", () => {
  for (const workers of [1, 2, 3, 8, 64]) {
    deepEqual(
      compileIssues(digits(workers).optimizer(sgd({ lr: 0.1 })).base(gossip(ring))),
      [],
      `${workers}`,
    );
  }
  for (const topology of [exponential(), onePeerExponential(), complete(), torus(), star()]) {
    deepEqual(
      compileIssues(digits(8).optimizer(sgd({ lr: 0.1 })).base(gossip(topology))),
      [],
      topology.kind,
    );
  }
});

Deno.test("rule: a torus must have one node per worker", () => {
  deepEqual(
    compileIssues(digits(8).optimizer(sgd({ lr: 0.1 })).base(gossip(torus({ rows: 3, cols: 3 })))),
    [
      issue(
        "base.topology",
        "gossip cannot use this topology: torus 3×3 has 9 nodes but workers is 8",
        "a connected doubly stochastic topology of 8 nodes",
        '"torus"',
      ),
    ],
  );
  deepEqual(
    compileIssues(digits(9).optimizer(sgd({ lr: 0.1 })).base(gossip(torus({ rows: 3, cols: 3 })))),
    [],
  );
});

Deno.test("rule: a star hub must be a rank", () => {
  deepEqual(compileIssues(digits(8).optimizer(sgd({ lr: 0.1 })).base(dmSgd(star({ hub: 9 })))), [
    issue(
      "base.topology",
      "dmSgd cannot use this topology: star hub 9 is outside ranks 0..7",
      "a connected doubly stochastic topology of 8 nodes",
      '"star"',
    ),
  ]);
  deepEqual(compileIssues(digits(8).optimizer(sgd({ lr: 0.1 })).base(dmSgd(star({ hub: 7 })))), []);
});

Deno.test("rule: custom weights must be doubly stochastic for gossip, column-stochastic for sgp", () => {
  // Columns sum to 1, rows to 0.75, 1.5, 0.75; strongly connected (0 ↔ 1 ↔ 2).
  const columnStochastic = customTopology(
    [[0.5, 0.25, 0], [0.5, 0.5, 0.5], [0, 0.25, 0.5]],
    { name: "lopsided" },
  );
  deepEqual(compileIssues(digits(3).optimizer(sgd({ lr: 0.1 })).base(gossip(columnStochastic))), [
    issue(
      "base.topology",
      'gossip cannot use this topology: topology "custom lopsided" is not doubly stochastic: row 0 sums to 0.75',
      "a connected doubly stochastic topology of 3 nodes",
      '"custom"',
    ),
  ]);
  deepEqual(compileIssues(digits(3).optimizer(sgd({ lr: 0.1 })).base(sgp(columnStochastic))), []);

  // The transpose: rows sum to 1, columns do not, which push-sum cannot use.
  const rowStochastic = customTopology(
    [[0.5, 0.5, 0], [0.25, 0.5, 0.25], [0, 0.5, 0.5]],
    { name: "rowwise" },
  );
  deepEqual(compileIssues(digits(3).optimizer(sgd({ lr: 0.1 })).base(sgp(rowStochastic))), [
    issue(
      "base.topology",
      'sgp cannot use this topology: topology "custom rowwise" is not column-stochastic: column 0 sums to 0.75',
      "a connected column-stochastic topology of 3 nodes",
      '"custom"',
    ),
  ]);

  // A zero diagonal can drive a push-sum weight to 0 (and z = x / w with it): refused for sgp.
  const selfless = customTopology([[0.5, 0.5, 0.5], [0.5, 0, 0], [0, 0.5, 0.5]], {
    name: "selfless",
  });
  deepEqual(compileIssues(digits(3).optimizer(sgd({ lr: 0.1 })).base(sgp(selfless))), [
    issue(
      "base.topology",
      'sgp cannot use this topology: topology "custom selfless" keeps no share on its diagonal: rank 1 has weight 0 for itself, and push-sum needs every diagonal weight positive',
      "a connected column-stochastic topology of 3 nodes",
      '"custom"',
    ),
  ]);

  // Size against workers.
  const pair = customTopology([[0.5, 0.5], [0.5, 0.5]], { name: "pair" });
  deepEqual(
    compileIssues(digits(8).optimizer(sgd({ lr: 0.1 })).base(gossip(pair))).map((found) =>
      found.message
    ),
    ['gossip cannot use this topology: topology "custom pair" has 2 nodes but workers is 8'],
  );
});

// ---------------------------------------------------------------------------------------------
// Cross-slot rules: composition

Deno.test("rule: outer algorithms cannot wrap overlapLocalSgd or cada", () => {
  const expected =
    "no outer algorithm, or a base among allReduce, localSgd, gossip, sgp, dmSgd, decentLaM, chocoGossip";
  deepEqual(
    compileIssues(
      digits().optimizer(sgd({ lr: 0.1 })).base(overlapLocalSgd({ tau: 4 })).outer(
        slowMo({ tau: 8 }),
      ),
    ),
    [
      issue(
        "outer",
        "slowMo cannot wrap overlapLocalSgd: overlapLocalSgd runs its own synchronisation",
        expected,
        '"slowMo"',
      ),
    ],
  );
  deepEqual(
    compileIssues(
      digits().optimizer(sgd({ lr: 0.1 })).base(cada({ c: 1 })).outer(bmuf({ tau: 8 })),
    ),
    [
      issue(
        "outer",
        "bmuf cannot wrap cada: cada runs its own synchronisation",
        expected,
        '"bmuf"',
      ),
    ],
  );
  for (
    const base of [
      allReduce(),
      localSgd({ tau: 4 }),
      gossip(ring),
      sgp(ring),
      dmSgd(ring),
      decentLaM(ring),
    ]
  ) {
    for (const outer of [slowMo({ tau: 8 }), diloco({ tau: 8 })]) {
      deepEqual(
        compileIssues(digits().optimizer(sgd({ lr: 0.1 })).base(base).outer(outer)),
        [],
        `${outer.kind} over ${base.kind}`,
      );
    }
  }
  deepEqual(
    compileIssues(
      digits().optimizer(sgd({ lr: 0.1 })).base(cada({ c: 1 })).outer(diloco({ tau: 8 })),
    ).map((found) => found.message),
    ["diloco cannot wrap cada: cada runs its own synchronisation"],
  );
});

Deno.test("rule: compressors apply only to bases that support them", () => {
  deepEqual(
    compileIssues(digits().optimizer(sgd({ lr: 0.1 })).base(gossip(ring)).compress(qsgd())),
    [
      issue(
        "compress",
        "qsgd cannot compress what gossip sends: it supports allReduce, localSgd and chocoGossip",
        "a base among allReduce, localSgd, chocoGossip",
        '"qsgd"',
      ),
    ],
  );
  deepEqual(
    compileIssues(
      digits().optimizer(sgd({ lr: 0.1 })).base(localSgd({ tau: 4 })).compress(
        sketchedSgd({ k: 10 }),
      ),
    ),
    [
      issue(
        "compress",
        "sketchedSgd cannot compress what localSgd sends: it supports allReduce",
        "a base among allReduce",
        '"sketchedSgd"',
      ),
    ],
  );
  deepEqual(
    compileIssues(
      digits().optimizer(sgd({ lr: 0.1 })).base(cada({ c: 1 })).compress(topK({ k: 10 })),
    )
      .map((found) => found.message),
    ["topK cannot compress what cada sends: it supports allReduce, localSgd and chocoGossip"],
  );
  deepEqual(
    compileIssues(digits().optimizer(sgd({ lr: 0.1 })).base(localSgd({ tau: 4 })).compress(qsgd())),
    [],
  );
  deepEqual(
    compileIssues(digits().optimizer(sgd({ lr: 0.1 })).base(allReduce()).compress(dqSgd())),
    [],
  );
});

Deno.test("rule: dqSgd bits must be ordered and the budget inside them", () => {
  const base = digits().optimizer(sgd({ lr: 0.1 })).base(allReduce());
  deepEqual(compileIssues(base.compress(dqSgd({ minBits: 6, maxBits: 4 }))), [
    issue("compress.minBits", "dqSgd minBits 6 is larger than maxBits 4", "at most 4", "6"),
  ]);
  deepEqual(compileIssues(base.compress(dqSgd({ budgetBits: 10 }))), [
    issue(
      "compress.budgetBits",
      "dqSgd budgetBits 10 is outside minBits..maxBits 2..8",
      "between 2 and 8",
      "10",
    ),
  ]);
  deepEqual(compileIssues(base.compress(dqSgd({ minBits: 4, budgetBits: 3.5 }))), [
    issue(
      "compress.budgetBits",
      "dqSgd budgetBits 3.5 is outside minBits..maxBits 4..8",
      "between 4 and 8",
      "3.5",
    ),
  ]);
  deepEqual(compileIssues(base.compress(dqSgd({ minBits: 3, maxBits: 3, budgetBits: 3 }))), []);
});

Deno.test("rule: sketchedSgd's second round fetches at least k candidates, or is off", () => {
  const base = digits().optimizer(sgd({ lr: 0.1 })).base(allReduce());
  deepEqual(compileIssues(base.compress(sketchedSgd({ k: 10, p2: 0.5 }))), [
    issue(
      "compress.p2",
      "sketchedSgd p2 0.5 would fetch 5 candidates, fewer than k 10: use 0 (no second round) or at least 1",
      "0, or at least 1",
      "0.5",
    ),
  ]);
  deepEqual(compileIssues(base.compress(sketchedSgd({ k: 10, p2: 0 }))), []);
  deepEqual(compileIssues(base.compress(sketchedSgd({ k: 10, p2: 1 }))), []);
});

Deno.test("rule: top-k and sketch k are at most the model's parameters", () => {
  const base = regression().base(allReduce());
  deepEqual(compileIssues(base.compress(topK({ k: 5 }))), [
    issue("compress.k", "topK k 5 is larger than the model's 4 parameters", "at most 4", "5"),
  ]);
  deepEqual(compileIssues(base.compress(topK({ k: 4 }))), []);
  deepEqual(compileIssues(base.compress(sketchedSgd({ k: 5 }))), [
    issue(
      "compress.k",
      "sketchedSgd k 5 is larger than the model's 4 parameters",
      "at most 4",
      "5",
    ),
  ]);
  // mlp [16] on mnist: 784·16 + 16 + 16·10 + 10 = 12,730 parameters.
  const mlpBase = digits().optimizer(sgd({ lr: 0.1 })).base(allReduce());
  deepEqual(compileIssues(mlpBase.compress(topK({ k: 12_731 }))).map((found) => found.message), [
    "topK k 12731 is larger than the model's 12730 parameters",
  ]);
  deepEqual(compileIssues(mlpBase.compress(topK({ k: 12_730 }))), []);
  // Unknown size: not checked.
  deepEqual(
    compileIssues(
      train(custom({ module: "./m.ts" })).data(mnist()).optimizer(sgd({ lr: 0.1 })).base(
        allReduce(),
      )
        .compress(topK({ k: 1e9 })),
    ),
    [],
  );
});

// ---------------------------------------------------------------------------------------------
// Cross-slot rules: periods

Deno.test("rule: an outer period is a multiple of the localSgd period", () => {
  const base = digits().optimizer(sgd({ lr: 0.1 })).base(localSgd({ tau: 3 }));
  deepEqual(compileIssues(base.outer(slowMo({ tau: 10 }))), [
    issue(
      "outer.tau",
      "slowMo tau 10 is not a multiple of localSgd tau 3",
      "a multiple of 3",
      "10",
    ),
  ]);
  deepEqual(compileIssues(base.outer(bmuf({ tau: 10 }))), [
    issue("outer.tau", "bmuf tau 10 is not a multiple of localSgd tau 3", "a multiple of 3", "10"),
  ]);
  deepEqual(compileIssues(base.outer(diloco({ tau: 10 }))), [
    issue(
      "outer.tau",
      "diloco tau 10 is not a multiple of localSgd tau 3",
      "a multiple of 3",
      "10",
    ),
  ]);
  deepEqual(compileIssues(base.outer(slowMo({ tau: 12 }))), []);
  deepEqual(compileIssues(base.outer(slowMo({ tau: 3 }))), []);
});

Deno.test("rule: periods fit in the run", () => {
  const start = digits().optimizer(sgd({ lr: 0.1 }));
  deepEqual(compileIssues(start.base(localSgd({ tau: 200 }))), [
    issue(
      "base.tau",
      "localSgd tau 200 is larger than steps 100: it would never synchronise",
      "at most 100",
      "200",
    ),
  ]);
  deepEqual(compileIssues(start.base(overlapLocalSgd({ tau: 101 }))).map((found) => found.path), [
    "base.tau",
  ]);
  deepEqual(compileIssues(start.base(allReduce()).outer(slowMo({ tau: 150 }))), [
    issue(
      "outer.tau",
      "slowMo tau 150 is larger than steps 100: it would never synchronise",
      "at most 100",
      "150",
    ),
  ]);
  deepEqual(compileIssues(start.base(localSgd({ tau: 100 }))), []);
  deepEqual(compileIssues(start.base(localSgd({ tau: 200 })).steps(200)), []);
  // Both period rules at once, in rule order.
  deepEqual(
    compileIssues(start.base(localSgd({ tau: 3 })).outer(bmuf({ tau: 200 }))).map((found) =>
      found.message
    ),
    [
      "bmuf tau 200 is not a multiple of localSgd tau 3",
      "bmuf tau 200 is larger than steps 100: it would never synchronise",
    ],
  );
});

Deno.test("rule: evalEvery is at most steps", () => {
  const base = regression().base(allReduce()).steps(50);
  deepEqual(compileIssues(base.evalEvery(60)), [
    issue(
      "evalEvery",
      "evalEvery 60 is larger than steps 50: no evaluation would run",
      "at most 50",
      "60",
    ),
  ]);
  deepEqual(compileIssues(base.evalEvery(50)), []);
});

// ---------------------------------------------------------------------------------------------
// Cross-slot rules: algorithms that divide by the learning rate

Deno.test("rule: slowMo needs a positive learning rate at every step", () => {
  const expected = "a learning rate greater than 0 at every step";
  const start = digits();
  // Cosine without minLr ends above 0 at the last step (k < steps), so it is fine.
  deepEqual(
    compileIssues(
      start.optimizer(sgd({ lr: cosine({ lr: 0.1 }) })).base(gossip(ring)).outer(
        slowMo({ tau: 10 }),
      ),
    ),
    [],
  );
  deepEqual(
    compileIssues(start.optimizer(sgd({ lr: 0 })).base(gossip(ring)).outer(slowMo({ tau: 10 }))),
    [
      issue(
        "optimizer.lr",
        "slowMo divides by the learning rate, but it is 0 at step 0",
        expected,
        "0",
      ),
    ],
  );
  deepEqual(
    compileIssues(
      start.optimizer(sgd({ lr: stepDecay({ lr: 0.1, factor: 0, every: 30 }) })).base(allReduce())
        .outer(slowMo({ tau: 10 })),
    ),
    [issue(
      "optimizer.lr",
      "slowMo divides by the learning rate, but it is 0 at step 30",
      expected,
      "0",
    )],
  );
  // A cosine shorter than the run reaches 0 at its end.
  deepEqual(
    compileIssues(
      start.optimizer(sgd({ lr: cosine({ lr: 0.1, steps: 50 }) })).base(allReduce()).outer(
        slowMo({ tau: 10 }),
      ),
    ),
    [issue(
      "optimizer.lr",
      "slowMo divides by the learning rate, but it is 0 at step 50",
      expected,
      "0",
    )],
  );
  // bmuf does not divide by the rate.
  deepEqual(
    compileIssues(start.optimizer(sgd({ lr: 0 })).base(allReduce()).outer(bmuf({ tau: 10 }))),
    [],
  );
  // Nor does diloco: its outer step has its own rate (§2.3).
  deepEqual(
    compileIssues(start.optimizer(sgd({ lr: 0 })).base(allReduce()).outer(diloco({ tau: 10 }))),
    [],
  );
  // Neither do plain bases.
  deepEqual(compileIssues(start.optimizer(sgd({ lr: 0 })).base(allReduce())), []);
});

Deno.test("rule: decentLaM and overlapLocalSgd with beta > 0 need a positive learning rate", () => {
  const expected = "a learning rate greater than 0 at every step";
  const start = digits();
  deepEqual(compileIssues(start.optimizer(sgd({ lr: 0 })).base(decentLaM(ring))), [
    issue(
      "optimizer.lr",
      "decentLaM divides by the learning rate, but it is 0 at step 0",
      expected,
      "0",
    ),
  ]);
  deepEqual(
    compileIssues(
      start.optimizer(sgd({ lr: cosine({ lr: 0.1, steps: 50 }) })).base(decentLaM(ring)),
    ),
    [issue(
      "optimizer.lr",
      "decentLaM divides by the learning rate, but it is 0 at step 50",
      expected,
      "0",
    )],
  );
  deepEqual(
    compileIssues(start.optimizer(sgd({ lr: 0 })).base(overlapLocalSgd({ tau: 4, beta: 0.5 }))),
    [
      issue(
        "optimizer.lr",
        "overlapLocalSgd with beta > 0 divides by the learning rate, but it is 0 at step 0",
        expected,
        "0",
      ),
    ],
  );
  deepEqual(compileIssues(start.optimizer(sgd({ lr: 0 })).base(overlapLocalSgd({ tau: 4 }))), []);
  deepEqual(compileIssues(start.optimizer(sgd({ lr: 0 })).base(dmSgd(ring))), []);
  // Both dividers are named.
  deepEqual(
    compileIssues(start.optimizer(sgd({ lr: 0 })).base(decentLaM(ring)).outer(slowMo({ tau: 10 })))
      .map((found) => found.message),
    ["slowMo and decentLaM divide by the learning rate, but it is 0 at step 0"],
  );
});

// ---------------------------------------------------------------------------------------------
// Cross-slot rules: network

Deno.test("rule: straggler ranks exist", () => {
  const base = digits(8).optimizer(sgd({ lr: 0.1 })).base(allReduce());
  deepEqual(compileIssues(base.network(network({ stragglers: { ranks: [0, 8], slowdown: 2 } }))), [
    issue(
      "network.stragglers.ranks.1",
      "straggler rank 8 does not exist with 8 workers",
      "a rank in 0..7",
      "8",
    ),
  ]);
  deepEqual(
    compileIssues(base.network(network({ stragglers: { ranks: [0, 7], slowdown: 2 } }))),
    [],
  );
});

Deno.test("rule: links join two existing, different ranks, each link once", () => {
  const base = digits(4).optimizer(sgd({ lr: 0.1 })).base(allReduce());
  const slow = { bandwidth: "10Mbit" } as const;
  deepEqual(
    compileIssues(base.network(network({
      links: [
        { between: [0, 4], ...slow },
        { between: [2, 2], ...slow },
        { between: [1, 3], ...slow },
        { between: [3, 1], latency: "9ms" },
      ],
    }))),
    [
      issue(
        "network.links.0.between",
        "link between 0 and 4 names a rank that does not exist with 4 workers",
        "ranks in 0..3",
        "[0,4]",
      ),
      issue(
        "network.links.1.between",
        "a link joins two different ranks, not 2 and itself",
        "two ranks",
        "[2,2]",
      ),
      issue(
        "network.links.3.between",
        "the link between 3 and 1 is declared twice",
        "each link once",
        "[3,1]",
      ),
    ],
  );
  deepEqual(compileIssues(base.network(network({ links: [{ between: [0, 3], ...slow }] }))), []);
});

Deno.test("rules: several problems are all reported, in slot order", () => {
  const issues = compileIssues(
    train(linear({ dim: 3 }))
      .data(synthetic({ task: "regression", features: 4, trainSize: 2 }))
      .workers(4)
      .optimizer(sgd({ lr: 0, nesterov: true }))
      .base(localSgd({ tau: 3 }))
      .outer(slowMo({ tau: 10 })),
  );
  deepEqual(issues.map((found) => found.path), [
    "model.dim",
    "data.trainSize",
    "optimizer.nesterov",
    "outer.tau",
    "optimizer.lr",
  ]);
});

// ---------------------------------------------------------------------------------------------
// Formatting, PlanError, parsePlan

Deno.test("formatIssues: one line per issue; the root is called plan", () => {
  equal(formatIssues([]), "");
  equal(
    formatIssues([
      issue("steps", "must be at least 1", ">=1", "0"),
      issue("", "wrong type", "Object", "null"),
    ]),
    "steps: must be at least 1 (expected >=1, received 0)\nplan: wrong type (expected Object, received null)",
  );
});

Deno.test("PlanError: counts issues and lists them under a header naming the source", () => {
  const one = new PlanError([issue("workers", "must be at least 1", ">=1", "0")]);
  equal(
    one.message,
    "Cannot compile plan: 1 issue\nworkers: must be at least 1 (expected >=1, received 0)",
  );
  equal(one.name, "PlanError");
  ok(one instanceof Error);
  const two = new PlanError(
    [issue("a", "x", "y", "z"), issue("b", "p", "q", "r")],
    "runs/plan.json",
  );
  equal(
    two.message,
    "Cannot compile runs/plan.json: 2 issues\na: x (expected y, received z)\nb: p (expected q, received r)",
  );
  equal(two.issues.length, 2);
});

Deno.test("parsePlan: returns a valid plan as is and throws PlanError otherwise", () => {
  const value: unknown = JSON.parse(JSON.stringify(VALID));
  equal(parsePlan(value), value);
  throws(() => parsePlan({}, "empty.json"), (error: unknown) => {
    ok(error instanceof PlanError);
    ok(error.message.startsWith("Cannot compile empty.json: 12 issues\nversion: is required"));
    equal(error.issues.length, 12);
    return true;
  });
  throws(
    () => parsePlan({ ...VALID, steps: 10, evalEvery: 20 }),
    (error: unknown) =>
      error instanceof PlanError &&
      error.message ===
        "Cannot compile plan: 1 issue\nevalEvery: evalEvery 20 is larger than steps 10: no evaluation would run (expected at most 10, received 20)",
  );
});

// ---------------------------------------------------------------------------------------------
// Known bugs, reported to the lead and not fixed here (the tests only edit test files). Each
// test states the intended behaviour; remove `ignore` once the source is fixed.

Deno.test({
  name: "BUG: the version issue keeps the schema's own message",

  fn() {
    // schema.ts gives v.literal a custom message, but validate.ts replaces every schema-kind
    // message with "wrong type".
    deepEqual(validatePlan(patched({ version: 2 })), [
      issue("version", "must be 1, the plan version this gossamer runs", "1", "2"),
    ]);
  },
});

Deno.test({
  name: "BUG: a non-object where a node belongs is a wrong type, not an unknown kind",

  fn() {
    // validate.ts maps every `variant` issue to "unknown kind", also when the value is not an
    // object at all (so there is no kind to be unknown).
    deepEqual(validatePlan(patched({ model: "linear" })), [
      issue("model", "wrong type", "Object", '"linear"'),
    ]);
    deepEqual(validatePlan(patched({ compress: "qsgd" })), [
      issue("compress", "wrong type", "Object", '"qsgd"'),
    ]);
  },
});

Deno.test({
  name: "BUG: an array is one wrong-type issue at the root",

  fn() {
    // valibot's strictObject accepts arrays, so [] reports 12 missing keys instead.
    deepEqual(validatePlan([]), [issue("", "wrong type", "Object", "[]")]);
  },
});
