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
} from "../../dsl/bases/mod.ts";
import { topK } from "../../dsl/compressors/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { bmuf, diloco, slowMo, sparseLoco, streamingDiloco } from "../../dsl/outers/mod.ts";
import type { Plan } from "../../dsl/plan.ts";
import { ring } from "../../topologies/mod.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { createTrainingChain } from "./chain.ts";
import { BASES, OUTERS } from "./registry.ts";
import { CHANNELS } from "../compressors/registry.ts";
import { makePlan } from "./_testing.ts";

/** A one-worker chain over a zero gradient. */
function chainFor(plan: Plan) {
  const [comm] = createMemoryCommunicators(1);
  return createTrainingChain({
    plan,
    comm: comm!,
    x0: new Float32Array(2),
    gradient: () => Promise.resolve({ loss: 0, grad: new Float32Array(2) }),
  });
}

Deno.test("the implemented bases and outers are registered", () => {
  const kinds = [
    "allReduce",
    "localSgd",
    "gossip",
    "sgp",
    "dmSgd",
    "decentLaM",
    "overlapLocalSgd",
    "cada",
  ] as const;
  for (const kind of kinds) {
    assert.equal(typeof BASES[kind], "function", kind);
  }
  for (const kind of ["slowMo", "bmuf", "diloco", "sparseLoco", "streamingDiloco"] as const) {
    assert.equal(typeof OUTERS[kind], "function");
  }
});

Deno.test("the step driver builds each implemented base and outer from its plan", () => {
  for (
    const base of [
      allReduce(),
      localSgd({ tau: 2 }),
      gossip(ring),
      sgp(ring),
      dmSgd(ring),
      decentLaM(ring),
      overlapLocalSgd({ tau: 2 }),
      cada({ c: 1 }),
    ]
  ) {
    const outers = base.kind === "overlapLocalSgd" || base.kind === "cada" ? [null] : [
      null,
      slowMo({ tau: 2 }),
      bmuf({ tau: 2 }),
      diloco({ tau: 2 }),
      sparseLoco({ tau: 2, k: 1 }),
      streamingDiloco({ tau: 2, fragments: 1 }),
    ];
    for (const outer of outers) {
      const chain = chainFor(
        makePlan({ workers: 1, optimizer: sgd({ lr: 0.1 }), base, outer, steps: 2 }),
      );
      assert.deepEqual([...chain.model()], [0, 0], base.kind);
      assert.equal(chain.parts.outer === null, outer === null);
    }
  }
});

Deno.test("every compressor kind has a channel", () => {
  for (const kind of ["qsgd", "dqSgd", "sketchedSgd", "fetchSgd", "topK"] as const) {
    assert.equal(typeof CHANNELS[kind], "function", kind);
  }
});

Deno.test("the step driver lists every part's buffers by name", () => {
  const plan = makePlan({
    workers: 1,
    optimizer: sgd({ lr: 0.1, momentum: 0.9 }),
    base: localSgd({ tau: 2 }),
    compress: topK({ k: 1 }),
    outer: slowMo({ tau: 2 }),
    steps: 2,
  });
  assert.deepEqual(chainFor(plan).buffers().map((buffer) => [buffer.name, buffer.momentum]), [
    ["sgd.velocity", true],
    ["localSgd.x", false],
    ["localSgd.synced", false],
    ["topK.residual", false],
    ["slowMo.anchor", false],
    ["slowMo.momentum", false],
  ]);
});
