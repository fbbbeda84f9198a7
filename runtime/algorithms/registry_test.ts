import assert from "node:assert/strict";
import {
  allReduce,
  cada,
  decentLaM,
  dmSgd,
  gossip,
  localSgd,
  overlapLocalSgd,
  sgp,
} from "../../dsl/base.ts";
import { qsgd } from "../../dsl/compress.ts";
import { sgd } from "../../dsl/optimizers.ts";
import { bmuf, slowMo } from "../../dsl/outer.ts";
import type { Plan } from "../../dsl/plan.ts";
import { ring } from "../../topologies/mod.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { createOptimizer } from "./optimizers.ts";
import { BASES, createBase, createOuter, OUTERS } from "./registry.ts";
import type { BaseContext } from "./types.ts";
import { makePlan } from "./_testing.ts";

function contextFor(plan: Plan): BaseContext {
  const [comm] = createMemoryCommunicators(1);
  return {
    plan,
    rank: 0,
    comm: comm!,
    x0: new Float32Array(2),
    optimizer: createOptimizer(plan.optimizer, 2),
    gradient: () => Promise.resolve({ loss: 0, grad: new Float32Array(2) }),
  };
}

Deno.test("the implemented bases and outers are registered", () => {
  for (const kind of ["allReduce", "localSgd", "gossip", "sgp"] as const) {
    assert.equal(typeof BASES[kind], "function", kind);
  }
  for (const kind of ["slowMo", "bmuf"] as const) assert.equal(typeof OUTERS[kind], "function");
});

Deno.test("createBase builds each implemented base from its plan", () => {
  for (const base of [allReduce(), localSgd({ tau: 2 }), gossip(ring), sgp(ring)]) {
    const algorithm = createBase(
      contextFor(makePlan({ workers: 1, optimizer: sgd({ lr: 0.1 }), base, steps: 1 })),
    );
    assert.deepEqual([...algorithm.model()], [0, 0], base.kind);
  }
});

Deno.test("createBase names a base kind that is not implemented yet", () => {
  for (
    const base of [
      dmSgd(ring),
      decentLaM(ring),
      overlapLocalSgd({ tau: 2 }),
      cada({ variant: 1, c: 0 }),
    ]
  ) {
    assert.equal(BASES[base.kind], null);
    const plan = makePlan({ workers: 1, optimizer: sgd({ lr: 0.1 }), base, steps: 1 });
    assert.throws(
      () => createBase(contextFor(plan)),
      new Error(`Cannot create base algorithm: "${base.kind}" is not implemented yet`),
    );
  }
});

Deno.test("createBase refuses a compressor rather than ignoring it", () => {
  const plan = {
    ...makePlan({ workers: 1, optimizer: sgd({ lr: 0.1 }), base: allReduce(), steps: 1 }),
    compress: qsgd({ levels: 4 }),
  };
  assert.throws(() => createBase(contextFor(plan)), /compressor "qsgd" is not implemented yet/);
});

Deno.test("createOuter builds slowMo and bmuf, and refuses a plan without an outer", () => {
  const options = { workers: 1, optimizer: sgd({ lr: 0.1 }), base: allReduce(), steps: 1 };
  for (const outer of [slowMo({ tau: 2 }), bmuf({ tau: 2 })]) {
    assert.equal(
      typeof createOuter(contextFor(makePlan({ ...options, outer }))).afterStep,
      "function",
    );
  }
  assert.throws(
    () => createOuter(contextFor(makePlan(options))),
    /the plan has no outer algorithm/,
  );
});

Deno.test("factories refuse a plan of another kind", () => {
  const plan = makePlan({ workers: 1, optimizer: sgd({ lr: 0.1 }), base: allReduce(), steps: 1 });
  assert.throws(() => BASES.gossip!(contextFor(plan)), /the plan's base is "allReduce"/);
  assert.throws(() => OUTERS.slowMo!(contextFor(plan)), /the plan's outer is "none"/);
});
