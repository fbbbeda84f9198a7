/**
 * Type tests for the pipeline DSL, checked by `deno check` (and by `deno test`, which type-checks
 * before running). Lines marked `@ts-expect-error` must NOT compile: if one starts compiling,
 * the directive itself becomes an error. Everything else must compile. `assertType` checks exact
 * types with {@linkcode IsExact}.
 *
 * The runtime part is small: it makes sure the file is picked up by `deno test` and that the
 * pipelines the types accept behave as the comments say.
 */

import { deepEqual, equal, ok, throws } from "node:assert/strict";
import {
  adam,
  adamw,
  allReduce,
  type Bandwidth,
  bmuf,
  cada,
  cnn,
  complete,
  cosine,
  decentLaM,
  dmSgd,
  type DmSgdNode,
  dqSgd,
  exponential,
  gossip,
  localSgd,
  mlp,
  mnist,
  network,
  onePeerExponential,
  type Pipeline,
  type Plan,
  PlanError,
  qsgd,
  ring,
  sgd,
  type SgdNode,
  sgp,
  slowMo,
  star,
  topK,
  torus,
  train,
  warmup,
} from "../../mod.ts";

/** `true` when `A` and `B` are the same type (not merely assignable either way). */
type IsExact<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2)
  ? (<T>() => T extends B ? 1 : 2) extends (<T>() => T extends A ? 1 : 2) ? true : false
  : false;

/** Compiles only when `T` is `true`. */
function assertType<T extends true>(): T | void {}

// The helpers themselves: IsExact must tell apart types that are only assignable.
assertType<IsExact<0.9, 0.9>>();
// @ts-expect-error: a literal is not exactly `number`
assertType<IsExact<0.9, number>>();
// @ts-expect-error: `number` is not exactly a literal
assertType<IsExact<number, 0.9>>();
// @ts-expect-error: `unknown` is not exactly `Plan`
assertType<IsExact<unknown, Plan>>();
// @ts-expect-error: a union is not exactly one of its members
assertType<IsExact<SgdNode<0> | SgdNode<0.9>, SgdNode<0>>>();

/** A complete pipeline to derive others from. */
const model = mlp({ hidden: [32] });

// ---------------------------------------------------------------------------------------------
// compile() needs data, optimizer and base

const noBase = train(model).data(mnist()).optimizer(sgd({ lr: 0.1 }));
const noData = train(model).optimizer(sgd({ lr: 0.1 })).base(allReduce());
const noOptimizer = train(model).data(mnist()).base(allReduce());

// The calls run inside the test below (they throw at run time too); the types reject them.
Deno.test("type tests: compile() of an incomplete pipeline fails to type-check and to run", () => {
  throws(
    // @ts-expect-error: compile() before .base()
    () => noBase.compile(),
    (error: unknown) => error instanceof PlanError && error.issues[0]?.path === "base",
  );
  throws(
    // @ts-expect-error: compile() before .data()
    () => noData.compile(),
    (error: unknown) => error instanceof PlanError && error.issues[0]?.path === "data",
  );
  throws(
    // @ts-expect-error: compile() before .optimizer()
    () => noOptimizer.compile(),
    (error: unknown) => error instanceof PlanError && error.issues[0]?.path === "optimizer",
  );
  throws(
    // @ts-expect-error: nothing set at all
    () => train(model).compile(),
    (error: unknown) =>
      error instanceof PlanError &&
      error.issues.map((issue) => issue.path).join() === "data,optimizer,base",
  );
});

// Once all three are set, in any order, compile() takes no argument and returns a Plan.
const complete3 = train(model).base(allReduce()).optimizer(sgd({ lr: 0.1 })).data(mnist());
const compiled = complete3.compile();
assertType<IsExact<typeof compiled, Plan>>();
assertType<IsExact<ReturnType<typeof complete3.compile>, Plan>>();

// ---------------------------------------------------------------------------------------------
// Slots accept only their own nodes

const ready = train(model).data(mnist()).workers(8).optimizer(sgd({ lr: 0.1 })).base(
  gossip(ring),
);

// @ts-expect-error: a bare topology factory is not a compressor
ready.compress(ring);
// @ts-expect-error: a topology node is not a compressor
ready.compress(ring());
// @ts-expect-error: a torus node is not a compressor
ready.compress(torus());
// @ts-expect-error: a bare topology factory is not an outer algorithm
ready.outer(ring);
// @ts-expect-error: a topology node is not an outer algorithm
ready.outer(ring());
// @ts-expect-error: a torus node is not an outer algorithm
ready.outer(torus());
// @ts-expect-error: a bare topology factory is not an optimizer
ready.optimizer(ring);
// @ts-expect-error: a topology node is not an optimizer
ready.optimizer(ring());
// @ts-expect-error: a torus node is not an optimizer
ready.optimizer(torus());
// @ts-expect-error: a topology is not a base; it goes inside one
ready.base(ring());
// @ts-expect-error: a compressor is not an outer algorithm
ready.outer(qsgd());
// @ts-expect-error: an outer algorithm is not a compressor
ready.compress(slowMo({ tau: 4 }));
// @ts-expect-error: a base is not data
ready.data(allReduce());

// ---------------------------------------------------------------------------------------------
// Momentum bases need a momentum-free optimizer, in either order

const withData = train(model).data(mnist()).workers(8);

// @ts-expect-error: dmSgd after sgd with momentum
withData.optimizer(sgd({ lr: 0.1, momentum: 0.9 })).base(dmSgd(ring));
// @ts-expect-error: sgd with momentum after dmSgd
withData.base(dmSgd(ring)).optimizer(sgd({ lr: 0.1, momentum: 0.9 }));
// @ts-expect-error: decentLaM after adam
withData.optimizer(adam({ lr: 0.01 })).base(decentLaM(ring));
// @ts-expect-error: adam after decentLaM
withData.base(decentLaM(ring)).optimizer(adam({ lr: 0.01 }));
// @ts-expect-error: dmSgd after adam
withData.optimizer(adam({ lr: 0.01 })).base(dmSgd(exponential));
// @ts-expect-error: dmSgd after adamw (its moments are a momentum too)
withData.optimizer(adamw({ lr: 0.01 })).base(dmSgd(ring));
// @ts-expect-error: adamw after decentLaM
withData.base(decentLaM(ring)).optimizer(adamw({ lr: 0.01 }));
// @ts-expect-error: decentLaM after sgd with momentum (and nesterov)
withData.optimizer(sgd({ lr: 0.1, momentum: 0.5, nesterov: true })).base(decentLaM(ring));

// What must compile: explicit zero momentum, or no momentum at all.
const zeroMomentum = withData.optimizer(sgd({ lr: 0.1, momentum: 0 })).base(dmSgd(ring));
const noMomentum = withData.base(decentLaM(ring)).optimizer(sgd({ lr: 0.1 }));
// Momentum is fine with bases that do not carry their own.
const gossipMomentum = withData.optimizer(sgd({ lr: 0.1, momentum: 0.9 })).base(gossip(ring));
const allReduceAdam = withData.base(allReduce()).optimizer(adam({ lr: 0.01 }));
const localSgdAdamw = withData.base(localSgd({ tau: 4 })).optimizer(adamw({ lr: 0.01 }));

// A momentum the types cannot see (a plain `number`) compiles; the validator catches it.
function momentumFromSomewhere(): number {
  return 0.9;
}
const hiddenMomentum = withData
  .optimizer(sgd({ lr: 0.1, momentum: momentumFromSomewhere() }))
  .base(dmSgd(ring));

// ---------------------------------------------------------------------------------------------
// Factories

// Topologies are accepted as bare factories or as nodes.
const bases = [
  gossip(ring),
  gossip(ring()),
  gossip(torus),
  gossip(torus({ rows: 2, cols: 4 })),
  gossip(complete),
  sgp(exponential),
  sgp(onePeerExponential()),
  dmSgd(star, { beta: 0.8 }),
  decentLaM(star({ hub: 1 })),
];

// @ts-expect-error: alpha belongs to the dirichlet partition only
mnist({ partition: "iid", alpha: 0.5 });
// @ts-expect-error: classesPerWorker belongs to byLabel only
mnist({ partition: "dirichlet", classesPerWorker: 2 });
mnist({ partition: "dirichlet", alpha: 0.5 });
mnist({ partition: "byLabel", classesPerWorker: 2 });

// @ts-expect-error: bits and levels are two ways to say the same thing; give one
qsgd({ bits: 2, levels: 3 });
qsgd({ bits: 2 });
qsgd({ levels: 3, bucket: 128 });

// @ts-expect-error: a bandwidth needs a number and a unit
network({ bandwidth: "fast" });
// @ts-expect-error: an unknown bandwidth unit
network({ bandwidth: "100Mbps" });
// @ts-expect-error: an unknown time unit
network({ latency: "5min" });
network({ bandwidth: "100Mbit", latency: "5ms", jitter: "200us" });
network({ bandwidth: "1Gbit/s", latency: 2 });
const text: Bandwidth = "2.5kbit";
network({ bandwidth: text });

// @ts-expect-error: the cnn takes two filter counts
cnn({ filters: [6, 16, 32] });
// @ts-expect-error: cada needs its threshold constant c
cada({});
// @ts-expect-error: a local-SGD period is required
localSgd({});
// @ts-expect-error: sgd needs a learning rate
sgd({ momentum: 0.9 });
// @ts-expect-error: a schedule kind is not a learning rate
sgd({ lr: "cosine" });

// ---------------------------------------------------------------------------------------------
// Exact types

const momentumSgd = sgd({ lr: 0.1, momentum: 0.9 });
assertType<IsExact<typeof momentumSgd, SgdNode<0.9>>>();
const plainSgd = sgd({ lr: 0.1 });
assertType<IsExact<typeof plainSgd, SgdNode<0>>>();
const zeroSgd = sgd({ lr: 0.1, momentum: 0 });
assertType<IsExact<typeof zeroSgd, SgdNode<0>>>();
const numberSgd = sgd({ lr: 0.1, momentum: momentumFromSomewhere() });
assertType<IsExact<typeof numberSgd, SgdNode<number>>>();
const scheduled = sgd({ lr: warmup({ steps: 5, then: cosine({ lr: 0.1 }) }), momentum: 0.5 });
assertType<IsExact<typeof scheduled, SgdNode<0.5>>>();

const empty = train(model);
assertType<IsExact<typeof empty, Pipeline<false, undefined, undefined>>>();
assertType<IsExact<typeof zeroMomentum, Pipeline<true, SgdNode<0>, DmSgdNode>>>();
assertType<IsExact<ReturnType<typeof hiddenMomentum.compile>, Plan>>();

// ---------------------------------------------------------------------------------------------
// The README pipeline, in full

const readmePlan = train(mlp({ hidden: [128] }))
  .data(mnist({ partition: "dirichlet", alpha: 0.5 }))
  .workers(8)
  .optimizer(sgd({ lr: 0.1 }))
  .base(gossip(ring))
  .outer(slowMo({ beta: 0.7, tau: 12 }))
  .steps(600)
  .compile();
assertType<IsExact<typeof readmePlan, Plan>>();

// Every slot at once.
const everything = train(mlp({ hidden: [64] }))
  .data(mnist({ partition: "byLabel", classesPerWorker: 3 }))
  .workers(4)
  .optimizer(sgd({ lr: cosine({ lr: 0.1, minLr: 0.001 }), momentum: 0.9, nesterov: true }))
  .base(localSgd({ tau: 4 }))
  .compress(qsgd({ bits: 4 }))
  .outer(bmuf({ tau: 8 }))
  .network(network({ bandwidth: "100Mbit", latency: "5ms", stragglers: { slowdown: 2 } }))
  .steps(200)
  .evalEvery(20)
  .seed(1);

// ---------------------------------------------------------------------------------------------
// Runtime: what the types accepted behaves as described

Deno.test("type tests: pipelines the types accept compile to the expected plans", () => {
  equal(readmePlan.base.kind, "gossip");
  equal(readmePlan.outer?.kind, "slowMo");
  equal(readmePlan.steps, 600);
  equal(compiled.workers, 1);
  equal(everything.compile().compress?.kind, "qsgd");
  deepEqual(
    [zeroMomentum, noMomentum, gossipMomentum, allReduceAdam, localSgdAdamw].map((p) =>
      p.compile().base.kind
    ),
    ["dmSgd", "decentLaM", "gossip", "allReduce", "localSgd"],
  );
  deepEqual(bases.map((base) => base.kind), [
    "gossip",
    "gossip",
    "gossip",
    "gossip",
    "gossip",
    "sgp",
    "sgp",
    "dmSgd",
    "decentLaM",
  ]);
  deepEqual(gossip(ring), gossip(ring()));
  deepEqual(gossip(torus), { kind: "gossip", topology: { kind: "torus", rows: null, cols: null } });
  equal(momentumSgd.momentum, 0.9);
  equal(plainSgd.momentum, 0);
  // The hidden momentum is rejected at compile().
  throws(() => hiddenMomentum.compile(), (error: unknown) => {
    ok(error instanceof PlanError);
    deepEqual(error.issues.map((issue) => issue.path), ["optimizer.momentum"]);
    return true;
  });
  // The remaining factories used above build nodes.
  equal(dqSgd().kind, "dqSgd");
  equal(topK({ k: 3 }).k, 3);
});
