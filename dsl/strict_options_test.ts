/**
 * Every factory refuses what it does not understand, as a plan file does: an unknown option key
 * fails `compile()` with its path in the plan and the key it probably meant, and a text value the
 * factory cannot read is reported in the words it was written, under the option's own name.
 */

import { deepEqual, equal, ok } from "node:assert/strict";
import {
  adam,
  adamw,
  allReduce,
  bmuf,
  cada,
  chocoGossip,
  cnn,
  cosine,
  custom,
  decentLaM,
  diloco,
  dmSgd,
  dqSgd,
  fetchSgd,
  gossip,
  leastSquares,
  linear,
  localSgd,
  logistic,
  mlp,
  mnist,
  network,
  overlapLocalSgd,
  type Pipeline,
  qsgd,
  ring,
  sgd,
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
  validatePlan,
  warmup,
} from "../mod.ts";
import { DATA_KINDS } from "./data/mod.ts";
import { MODEL_KINDS } from "./models/mod.ts";
import { OPTIMIZER_KINDS } from "./optimizers/mod.ts";
import { BASE_KINDS } from "./bases/mod.ts";
import { COMPRESSOR_KINDS } from "./compressors/mod.ts";
import { OUTER_KINDS } from "./outers/mod.ts";
import { SCHEDULE_FORMS } from "./schedules.ts";
import { compileIssues } from "./_testing.ts";

/** Options with a key no factory knows, typed as the factory's own. */
function withTypo<T extends object>(options: T, key: string, value: unknown): T {
  return { ...options, [key]: value } as T;
}

/** A small valid pipeline on synthetic classification data, to put one slot into. */
const start = () => train(mlp({ hidden: [4] })).data(synthetic({ features: 8 })).workers(4);
const complete = (pipeline: Pipeline<true, undefined, undefined>) =>
  pipeline.optimizer(sgd({ lr: 0.1 })).base(allReduce());

/**
 * One case per factory that takes options: the pipeline with a typo in that factory's options,
 * the issue's path, and the key it should suggest. Keyed by the factory's name.
 */
const CASES: Record<
  string,
  { pipeline: () => { compile(): unknown }; path: string; near: string }
> = {
  linear: {
    pipeline: () =>
      train(linear(withTypo({ dim: 8 }, "int", "zeros")))
        .data(synthetic({ task: "regression", features: 8 }))
        .optimizer(sgd({ lr: 0.1 })).base(allReduce()),
    path: "model.int",
    near: "init",
  },
  logistic: {
    pipeline: () => complete(train(logistic(withTypo({}, "clases", 10))).data(synthetic())),
    path: "model.clases",
    near: "classes",
  },
  mlp: {
    pipeline: () =>
      complete(train(mlp(withTypo({ hidden: [4] }, "activaton", "tanh"))).data(synthetic())),
    path: "model.activaton",
    near: "activation",
  },
  cnn: {
    pipeline: () => complete(train(cnn(withTypo({}, "kernal", 3))).data(mnist())),
    path: "model.kernal",
    near: "kernel",
  },
  custom: {
    pipeline: () =>
      complete(
        train(custom(withTypo({ module: "./m.ts" }, "exprt", "build"))).data(synthetic()),
      ),
    path: "model.exprt",
    near: "export",
  },
  transformer: {
    pipeline: () =>
      complete(
        train(
          transformer(withTypo({ layers: 1, dModel: 8, heads: 2, context: 8 }, "mlpratio", 2)),
        ).data(text()),
      ),
    path: "model.mlpratio",
    near: "mlpRatio",
  },
  text: {
    pipeline: () =>
      complete(
        train(transformer({ layers: 1, dModel: 8, heads: 2, context: 8 }))
          .data(text(withTypo({}, "partiton", "iid"))),
      ),
    path: "data.partiton",
    near: "partition",
  },
  mnist: {
    pipeline: () => complete(train(mlp({ hidden: [4] })).data(mnist(withTypo({}, "batchsize", 8)))),
    path: "data.batchsize",
    near: "batchSize",
  },
  synthetic: {
    pipeline: () =>
      complete(train(mlp({ hidden: [4] })).data(synthetic(withTypo({}, "featurs", 8)))),
    path: "data.featurs",
    near: "features",
  },
  leastSquares: {
    pipeline: () =>
      train(linear({ dim: 2 })).data(leastSquares(withTypo({ file: "x.json" }, "fle", "y")))
        .optimizer(sgd({ lr: 0.1 })).base(allReduce()),
    path: "data.fle",
    near: "file",
  },
  tensors: {
    pipeline: () =>
      complete(
        train(mlp({ hidden: [4] })).data(tensors(withTypo({ train: "d.npz" }, "lables", "y"))),
      ),
    path: "data.lables",
    near: "labels",
  },
  stepDecay: {
    pipeline: () =>
      start().optimizer(sgd({ lr: stepDecay(withTypo({ lr: 0.1, every: 10 }, "factr", 0.5)) }))
        .base(allReduce()),
    path: "optimizer.lr.factr",
    near: "factor",
  },
  cosine: {
    pipeline: () =>
      start().optimizer(sgd({ lr: cosine(withTypo({ lr: 0.1 }, "minlr", 0)) })).base(allReduce()),
    path: "optimizer.lr.minlr",
    near: "minLr",
  },
  warmup: {
    pipeline: () =>
      start().optimizer(sgd({ lr: warmup(withTypo({ steps: 5, then: 0.1 }, "step", 5)) }))
        .base(allReduce()),
    path: "optimizer.lr.step",
    near: "steps",
  },
  sgd: {
    pipeline: () =>
      start().optimizer(sgd(withTypo({ lr: 0.1 }, "momentun", 0.9))).base(allReduce()),
    path: "optimizer.momentun",
    near: "momentum",
  },
  adam: {
    pipeline: () => start().optimizer(adam(withTypo({ lr: 0.1 }, "beta_1", 0.8))).base(allReduce()),
    path: "optimizer.beta_1",
    near: "beta1",
  },
  adamw: {
    pipeline: () =>
      start().optimizer(adamw(withTypo({ lr: 0.1 }, "weigthDecay", 0.01))).base(allReduce()),
    path: "optimizer.weigthDecay",
    near: "weightDecay",
  },
  localSgd: {
    pipeline: () =>
      start().optimizer(sgd({ lr: 0.1 })).base(localSgd(withTypo({ tau: 4 }, "bufers", "reset"))),
    path: "base.bufers",
    near: "buffers",
  },
  chocoGossip: {
    pipeline: () =>
      start().optimizer(sgd({ lr: 0.1 })).base(
        chocoGossip(ring, withTypo({ gamma: 0.5 }, "gama", 0.5)),
      ),
    path: "base.gama",
    near: "gamma",
  },
  dmSgd: {
    pipeline: () => start().optimizer(sgd({ lr: 0.1 })).base(dmSgd(ring, withTypo({}, "bta", 0.5))),
    path: "base.bta",
    near: "beta",
  },
  decentLaM: {
    pipeline: () =>
      start().optimizer(sgd({ lr: 0.1 })).base(decentLaM(ring, withTypo({}, "betta", 0.5))),
    path: "base.betta",
    near: "beta",
  },
  overlapLocalSgd: {
    pipeline: () =>
      start().optimizer(sgd({ lr: 0.1 }))
        .base(overlapLocalSgd(withTypo({ tau: 4 }, "alph", 0.5))),
    path: "base.alph",
    near: "alpha",
  },
  cada: {
    pipeline: () =>
      start().optimizer(sgd({ lr: 0.1 })).base(cada(withTypo({ c: 0 }, "maxdelay", 5))),
    path: "base.maxdelay",
    near: "maxDelay",
  },
  qsgd: {
    pipeline: () => complete(start()).compress(qsgd(withTypo({}, "bit", 2))),
    path: "compress.bit",
    near: "bits",
  },
  dqSgd: {
    pipeline: () => complete(start()).compress(dqSgd(withTypo({}, "budgetbits", 3))),
    path: "compress.budgetbits",
    near: "budgetBits",
  },
  sketchedSgd: {
    pipeline: () => complete(start()).compress(sketchedSgd(withTypo({ k: 4 }, "row", 3))),
    path: "compress.row",
    near: "rows",
  },
  fetchSgd: {
    pipeline: () => complete(start()).compress(fetchSgd(withTypo({ cols: 40, k: 4 }, "col", 3))),
    path: "compress.col",
    near: "cols",
  },
  topK: {
    pipeline: () => complete(start()).compress(topK(withTypo({ k: 4 }, "errorFeedBack", false))),
    path: "compress.errorFeedBack",
    near: "errorFeedback",
  },
  slowMo: {
    pipeline: () => complete(start()).outer(slowMo(withTypo({ tau: 4 }, "betas", 0.2))),
    path: "outer.betas",
    near: "beta",
  },
  bmuf: {
    pipeline: () => complete(start()).outer(bmuf(withTypo({ tau: 4 }, "blockLR", 0.5))),
    path: "outer.blockLR",
    near: "blockLr",
  },
  diloco: {
    pipeline: () => complete(start()).outer(diloco(withTypo({ tau: 4 }, "nestrov", false))),
    path: "outer.nestrov",
    near: "nesterov",
  },
  sparseLoco: {
    pipeline: () => complete(start()).outer(sparseLoco(withTypo({ tau: 4, k: 1 }, "chunks", 2))),
    path: "outer.chunks",
    near: "chunk",
  },
  streamingDiloco: {
    pipeline: () =>
      complete(start()).outer(
        streamingDiloco(withTypo({ tau: 4, fragments: 1 }, "overlapp", 1)),
      ),
    path: "outer.overlapp",
    near: "overlap",
  },
  network: {
    pipeline: () => complete(start()).network(network(withTypo({}, "latncy", "5ms"))),
    path: "network.latncy",
    near: "latency",
  },
  elastic: {
    pipeline: () => complete(start()).elastic(withTypo({ minWorkers: 2 }, "maxWorker", 6)),
    path: "elastic.maxWorker",
    near: "maxWorkers",
  },
  torus: {
    pipeline: () =>
      start().optimizer(sgd({ lr: 0.1 })).base(gossip(torus(withTypo({}, "colls", 2)))),
    path: "base.topology.colls",
    near: "cols",
  },
  star: {
    pipeline: () => start().optimizer(sgd({ lr: 0.1 })).base(dmSgd(star(withTypo({}, "hubb", 1)))),
    path: "base.topology.hubb",
    near: "hub",
  },
};

/** Kinds whose factory takes no options at all, so it has nothing to misspell. */
const WITHOUT_OPTIONS = ["allReduce", "gossip", "sgp"];

Deno.test("every factory that takes options is covered below", () => {
  const factories = [
    ...Object.keys(MODEL_KINDS),
    ...Object.keys(DATA_KINDS),
    ...Object.keys(SCHEDULE_FORMS),
    ...Object.keys(OPTIMIZER_KINDS),
    ...Object.keys(BASE_KINDS),
    ...Object.keys(COMPRESSOR_KINDS),
    ...Object.keys(OUTER_KINDS),
    "network",
    "elastic",
    "torus",
    "star",
  ].filter((kind) => !WITHOUT_OPTIONS.includes(kind));
  deepEqual(Object.keys(CASES).sort(), factories.sort());
});

for (const [factory, { pipeline, path, near }] of Object.entries(CASES)) {
  Deno.test(`${factory}: an unknown option fails compile() with its path and a suggestion`, () => {
    const found = compileIssues(pipeline()).find((issue) => issue.path === path);
    ok(found !== undefined, `no issue at ${path}`);
    equal(found.message, `unknown option; did you mean "${near}"?`);
    ok(found.expected.startsWith("one of ") && found.expected.includes(near), found.expected);
  });
}

Deno.test("the review's two typos: a partition and a momentum that silently did nothing", () => {
  const issues = compileIssues(
    train(mlp({ hidden: [4] }))
      .data(mnist({ partition: "dirichelt" as "dirichlet" }))
      .optimizer(sgd(withTypo({ lr: 0.1 }, "momentun", 0.9)))
      .base(allReduce()),
  );
  deepEqual(issues, [
    {
      path: "data.partition",
      message: 'unknown partition; did you mean "dirichlet"?',
      expected: 'one of "iid", "dirichlet", "byLabel"',
      received: '"dirichelt"',
    },
    {
      path: "optimizer.momentun",
      message: 'unknown option; did you mean "momentum"?',
      expected: "one of lr, momentum, nesterov, weightDecay, clipNorm",
      received: '"momentun"',
    },
  ]);
});

Deno.test("an option of another partition is named as such, not as a typo", () => {
  const issues = compileIssues(
    complete(start().data(mnist(withTypo({ partition: "iid" as const }, "alpha", 0.1)))),
  );
  deepEqual(issues.map((issue) => [issue.path, issue.message]), [
    ["data.alpha", 'alpha applies to partition "dirichlet" only, not "iid"'],
  ]);
});

Deno.test("options nested in a network are checked too, with their place", () => {
  const issues = compileIssues(
    complete(start()).network(
      network({
        links: [withTypo({ between: [0, 1] as const }, "bandwith", "1Mbit")],
        stragglers: withTypo({ ranks: [1] }, "probabilty", 0.5),
        latency: "5 msec" as "5ms",
      }),
    ),
  );
  deepEqual(issues.map((issue) => [issue.path, issue.message]), [
    ["network.links.0.bandwith", 'unknown option; did you mean "bandwidth"?'],
    ["network.stragglers.probabilty", 'unknown option; did you mean "probability"?'],
    ["network.latency", '"5 msec" is not a duration'],
  ]);
});

Deno.test("options nested in a network's failures are checked too, with their place", () => {
  const issues = compileIssues(
    complete(start()).elastic({ minWorkers: 1 }).network(
      network({
        failures: [
          withTypo({ worker: 1, leaveAt: 2 }, "joinat", 3),
          withTypo({ probability: 0.1 }, "sed", 3),
        ],
      }),
    ),
  );
  deepEqual(issues.map((issue) => [issue.path, issue.message]), [
    ["network.failures.0.joinat", 'unknown option; did you mean "joinAt"?'],
    ["network.failures.1.sed", 'unknown option; did you mean "seed"?'],
  ]);
});

Deno.test("a bit width is checked as written, not as its level count", () => {
  const issues = compileIssues(complete(start()).compress(qsgd({ bits: 2.5 })));
  deepEqual(issues, [{
    path: "compress.bits",
    message: "must be an integer from 1 to 16",
    expected: "an integer from 1 to 16",
    received: "2.5",
  }]);
});

Deno.test("a node made by a factory keeps its problems when placed in a plan by hand", () => {
  const plan: Record<string, unknown> = { ...complete(start()).compile() };
  plan.optimizer = sgd(withTypo({ lr: 0.1 }, "momentun", 0.9));
  equal(validatePlan(plan)[0]?.path, "optimizer.momentun");
});

Deno.test("a factory's problems never reach the plan's JSON", () => {
  const node = sgd(withTypo({ lr: 0.1 }, "momentun", 0.9));
  equal(JSON.stringify(node), JSON.stringify(sgd({ lr: 0.1 })));
});

// Type errors, checked by `deno check`: every factory's option type is exact, so the same typos
// fail to compile where the types can see them.
function _typeErrors(): void {
  // @ts-expect-error: a misspelt option of sgd (its momentum literal is inferred, yet exact)
  sgd({ lr: 0.1, momentun: 0.9 });
  // @ts-expect-error: not a partition
  mnist({ partition: "dirichelt" });
  // @ts-expect-error: alpha belongs to dirichlet
  mnist({ partition: "iid", alpha: 0.5 });
  // @ts-expect-error: not a bandwidth
  network({ bandwidth: "100 Mbps" });
  // @ts-expect-error: misspelt
  linear({ dim: 4, int: "zeros" });
  // @ts-expect-error: misspelt
  logistic({ clases: 10 });
  // @ts-expect-error: misspelt
  mlp({ hidden: [4], activaton: "tanh" });
  // @ts-expect-error: misspelt
  cnn({ kernal: 3 });
  // @ts-expect-error: misspelt
  custom({ module: "./m.ts", exprt: "build" });
  // @ts-expect-error: misspelt
  synthetic({ featurs: 8 });
  // @ts-expect-error: misspelt
  transformer({ layers: 1, dModel: 8, heads: 2, context: 8, mlpratio: 2 });
  // @ts-expect-error: misspelt
  text({ partiton: "iid" });
  // @ts-expect-error: not a tokenizer (yet)
  text({ tokenizer: "bpe" });
  // @ts-expect-error: misspelt
  leastSquares({ file: "x.json", fle: "y" });
  // @ts-expect-error: misspelt
  tensors({ train: "d.npz", tst: "t.npz" });
  // @ts-expect-error: classesPerWorker belongs to byLabel
  tensors({ train: "d.npz", partition: "dirichlet", classesPerWorker: 2 });
  // @ts-expect-error: misspelt
  stepDecay({ lr: 0.1, every: 10, factr: 0.5 });
  // @ts-expect-error: misspelt
  cosine({ lr: 0.1, minlr: 0 });
  // @ts-expect-error: misspelt
  warmup({ steps: 5, then: 0.1, step: 5 });
  // @ts-expect-error: misspelt
  adam({ lr: 0.1, beta_1: 0.8 });
  // @ts-expect-error: misspelt
  adamw({ lr: 0.1, weigthDecay: 0.01 });
  // @ts-expect-error: misspelt
  sgd({ lr: 0.1, clipnorm: 1 });
  // @ts-expect-error: misspelt
  localSgd({ tau: 4, bufers: "reset" });
  // @ts-expect-error: misspelt
  dmSgd(ring, { bta: 0.5 });
  // @ts-expect-error: misspelt
  chocoGossip(ring, { gamma: 0.5, gama: 0.5 });
  // @ts-expect-error: misspelt
  decentLaM(ring, { betta: 0.5 });
  // @ts-expect-error: misspelt
  overlapLocalSgd({ tau: 4, alph: 0.5 });
  // @ts-expect-error: misspelt
  cada({ c: 0, maxdelay: 5 });
  // @ts-expect-error: misspelt
  qsgd({ bit: 2 });
  // @ts-expect-error: misspelt
  dqSgd({ budgetbits: 3 });
  // @ts-expect-error: misspelt
  sketchedSgd({ k: 4, row: 3 });
  // @ts-expect-error: misspelt
  fetchSgd({ cols: 40, k: 4, col: 3 });
  // @ts-expect-error: misspelt
  topK({ k: 4, errorFeedBack: false });
  // @ts-expect-error: misspelt
  slowMo({ tau: 4, betas: 0.2 });
  // @ts-expect-error: misspelt
  bmuf({ tau: 4, blockLR: 0.5 });
  // @ts-expect-error: misspelt
  diloco({ tau: 4, nestrov: false });
  // @ts-expect-error: misspelt
  sparseLoco({ tau: 4, k: 1, chunks: 2 });
  // @ts-expect-error: misspelt
  streamingDiloco({ tau: 4, fragments: 2, overlapp: 1 });
  // @ts-expect-error: misspelt
  network({ latncy: "5ms" });
  // @ts-expect-error: misspelt, in a declared failure
  network({ failures: [{ worker: 1, leaveAt: 2, joinat: 3 }] });
  // @ts-expect-error: misspelt
  train(mlp({ hidden: [4] })).elastic({ minWorker: 2 });
  // @ts-expect-error: not a reshard policy
  train(mlp({ hidden: [4] })).elastic({ minWorkers: 2, reshard: "sprad" });
  // @ts-expect-error: misspelt
  torus({ colls: 2 });
  // @ts-expect-error: misspelt
  star({ hubb: 1 });
}
