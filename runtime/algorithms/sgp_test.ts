import assert from "node:assert/strict";
import { gossip, sgp } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import type { TopologyNode } from "../../dsl/plan.ts";
import { customTopology, exponential, ring, star, torus } from "../../topologies/mod.ts";
import { deBiased, pushSumCombine, pushSumMessage, pushSumShares, type sgpBase } from "./sgp.ts";
import {
  assertClose,
  assertRowsClose,
  axpy,
  gradients,
  makePlan,
  type Mat,
  matmul,
  repeat,
  runWorkers,
  type Shard,
  SHARDS_2D,
  X0_2D,
} from "./_testing.ts";

const t = 1 / 3;
/** Push-sum matrix of a star of 3 around rank 0: the hub splits 3 ways, each leaf 2 ways. */
const STAR_3: Mat = [
  [t, 0.5, 0.5],
  [t, 0.5, 0],
  [t, 0, 0.5],
];
/** A directed, column-stochastic graph: 0 → 1, 0 → 2, 1 → 2, 2 → 0. */
const DIRECTED_3: Mat = [
  [t, 0, 0.5],
  [t, 0.5, 0],
  [t, 0.5, 0.5],
];

/** Float64 SGP: Z = X / w; X ← P (X − γ ∇f(Z)); w ← P w. Returns Z after each step. */
function reference(P: Mat, shards: readonly Shard[], steps: number, lr: number) {
  const n = P.length;
  let X = repeat(n, X0_2D);
  let w = new Array<number>(n).fill(1);
  const Z: Mat[] = [];
  const weights: number[][] = [];
  for (let k = 0; k < steps; k++) {
    const G = gradients(shards, X.map((x, i) => x.map((v) => v / w[i]!)));
    X = matmul(P, X.map((x, i) => axpy(x, -lr, G[i]!)));
    w = P.map((row) => row.reduce((s, p, j) => s + p * w[j]!, 0));
    Z.push(X.map((x, i) => x.map((v) => v / w[i]!)));
    weights.push(w);
  }
  return { Z, weights };
}

async function runSgp(topology: TopologyNode, n: number, steps: number, shards = SHARDS_2D) {
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr: 0.1 }),
    base: sgp(topology),
    steps,
  });
  const result = await runWorkers(plan, shards, X0_2D);
  const bases = result.bases as ReturnType<typeof sgpBase>[];
  return { ...result, weights: bases.map((base) => base.weight()), bases };
}

for (
  const [name, topology, P] of [
    ["star", star(), STAR_3],
    ["directed custom graph", customTopology(DIRECTED_3, { name: "directed" }), DIRECTED_3],
  ] as const
) {
  Deno.test(`sgp on a ${name}: de-biased models follow the push-sum reference`, async () => {
    const { history, weights } = await runSgp(topology, 3, 3);
    const expected = reference(P, SHARDS_2D.slice(0, 3), 3, 0.1);
    history.forEach((models, k) => assertRowsClose(models, expected.Z[k]!, 1e-6, `step ${k}`));
    assertClose(weights, expected.weights[2]!, 1e-6, "weights");
    assert.ok(weights.some((w) => Math.abs(w - 1) > 0.01), "the weights moved away from 1");
  });
}

for (
  const [name, topology, n] of [
    ["ring of 4", ring(), 4],
    ["exponential graph of 8", exponential(), 8],
    ["3×3 torus", torus({ rows: 3, cols: 3 }), 9],
  ] as const
) {
  Deno.test(`§5.4: sgp on a ${name} keeps w_i = 1 exactly`, async () => {
    const shards = Array.from({ length: n }, (_, i) => SHARDS_2D[i % SHARDS_2D.length]!);
    const { weights, history } = await runSgp(topology, n, 6, shards);
    assert.deepEqual(weights, new Array(n).fill(1));
    assert.notDeepEqual(history[5]![0], history[5]![1]);
  });
}

Deno.test("sgp setModel restarts from x with weight 1", async () => {
  const { bases } = await runSgp(star(), 3, 2);
  const base = bases[1]!;
  assert.notEqual(base.weight(), 1);
  base.setModel(Float32Array.from([7, -7]));
  assert.equal(base.weight(), 1);
  assert.deepEqual([...base.model()], [7, -7]);
  assert.throws(() => base.setModel(new Float32Array(3)), /Length mismatch/);
});

Deno.test("sgp sends d + 1 floats per message, one more than gossip", async () => {
  const push = await runSgp(ring(), 4, 1);
  const plan = makePlan({ workers: 4, optimizer: sgd({ lr: 0.1 }), base: gossip(ring), steps: 1 });
  const plain = await runWorkers(plan, SHARDS_2D, X0_2D);
  // Two out-neighbours on a ring: two extra float32 weights.
  assert.equal(push.comms[0]!.stats().sent.base - plain.comms[0]!.stats().sent.base, 2 * 4);
});

Deno.test("pushSumShares reads a column and a row of P", () => {
  assert.deepEqual(pushSumShares(STAR_3, 0), {
    keep: t,
    sendTo: [{ rank: 1, share: t }, { rank: 2, share: t }],
    receiveFrom: [1, 2],
  });
  assert.deepEqual(pushSumShares(DIRECTED_3, 1), {
    keep: 0.5,
    sendTo: [{ rank: 2, share: 0.5 }],
    receiveFrom: [0],
  });
  assert.throws(() => pushSumShares(STAR_3, 3), RangeError);
});

Deno.test("push-sum message, combination and de-biasing", () => {
  const message = pushSumMessage(Float32Array.from([2, -4]), 0.5, 0.5);
  assertClose(message, [1, -2, 0.25], 0);
  const { x, w } = pushSumCombine(Float32Array.from([4, 4]), 0.5, 0.5, [message]);
  assertClose(x, [3, 0], 0);
  assert.equal(w, 0.5);
  assertClose(deBiased(x, w), [6, 0], 0);
  assert.throws(
    () => pushSumCombine(Float32Array.from([1, 1]), 1, 1, [new Float32Array(2)]),
    /expected 3/,
  );
});
