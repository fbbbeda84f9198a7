import assert from "node:assert/strict";
import { allReduce, gossip, localSgd, sgp } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { slowMo } from "../../dsl/outers/mod.ts";
import type { BufferPolicy } from "../../dsl/plan.ts";
import { learningRate, stepDecay } from "../../dsl/schedules.ts";
import { ring, star } from "../../topologies/mod.ts";
import { slowMoUpdate } from "./slow_mo.ts";
import type { sgpBase } from "./sgp.ts";
import {
  assertClose,
  assertRowsClose,
  axpy,
  gradients,
  makePlan,
  type Mat,
  matmul,
  meanRow,
  repeat,
  RING_4,
  runWorkers,
  SHARDS_2D,
  type Vec,
  X0_2D,
} from "./_testing.ts";

const t = 1 / 3;

for (const policy of ["keep", "reset", "average"] as const satisfies readonly BufferPolicy[]) {
  Deno.test(`slowMo over gossip with momentum and a decaying lr, buffers "${policy}"`, async () => {
    const n = 4;
    const schedule = stepDecay({ lr: 0.1, factor: 0.5, every: 3 });
    const [tau, alpha, beta, mu] = [2, 1.2, 0.5, 0.5];
    const plan = makePlan({
      workers: n,
      optimizer: sgd({ lr: schedule, momentum: mu }),
      base: gossip(ring),
      outer: slowMo({ tau, alpha, beta, buffers: policy }),
      steps: 6,
    });
    const { history, optimizers, comms } = await runWorkers(plan, SHARDS_2D, X0_2D);
    const shards = SHARDS_2D.slice(0, n);
    let X = repeat(n, X0_2D);
    let V = repeat(n, [0, 0]);
    let anchor: Vec = [...X0_2D];
    let u: Vec = [0, 0];
    for (let k = 0; k < 6; k++) {
      const lr = learningRate(schedule, k, 6);
      const G = gradients(shards, X);
      V = V.map((v, i) => axpy(G[i]!, mu, v));
      X = matmul(RING_4, X).map((x, i) => axpy(x, -lr, V[i]!));
      if ((k + 1) % tau === 0) {
        const mean = meanRow(X);
        u = axpy(anchor, -1, mean).map((value, c) => beta * u[c]! + value / lr);
        anchor = axpy(anchor, -alpha * lr, u);
        X = repeat(n, anchor);
        if (policy === "reset") V = repeat(n, [0, 0]);
        if (policy === "average") V = repeat(n, meanRow(V));
      }
      assertRowsClose(history[k]!, X, 1e-5, `step ${k}`);
    }
    assertRowsClose(optimizers.map((opt) => opt.buffers()[0]!.data), V, 1e-5, "velocity");
    for (const comm of comms) {
      assert.equal(comm.stats().sent.outer > 0, true, "outer traffic is counted");
    }
  });
}

Deno.test("§5.1: slowMo alpha 1 beta 0 over localSgd equals plain localSgd", async () => {
  const options = {
    workers: 4,
    optimizer: sgd({ lr: 0.1, momentum: 0.5 }),
    base: localSgd({ tau: 2 }),
    steps: 6,
  };
  const plain = await runWorkers(makePlan(options), SHARDS_2D, X0_2D);
  const outer = slowMo({ tau: 2, alpha: 1, beta: 0 });
  const slow = await runWorkers(makePlan({ ...options, outer }), SHARDS_2D, X0_2D);
  for (let k = 0; k < 6; k++) {
    const expected = plain.history[k]!.map((x) => [...x]);
    assertRowsClose(slow.history[k]!, expected, 1e-6, `step ${k}`);
  }
});

Deno.test("slowMo over sgp averages the de-biased models and resets w to 1", async () => {
  const n = 3;
  const [tau, alpha, beta, lr] = [2, 1, 0.5, 0.1];
  const P: Mat = [
    [t, 0.5, 0.5],
    [t, 0.5, 0],
    [t, 0, 0.5],
  ];
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr }),
    base: sgp(star),
    outer: slowMo({ tau, alpha, beta }),
    steps: 4,
  });
  const { history, bases } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const shards = SHARDS_2D.slice(0, n);
  let X = repeat(n, X0_2D);
  let w = [1, 1, 1];
  let anchor: Vec = [...X0_2D];
  let u: Vec = [0, 0];
  for (let k = 0; k < 4; k++) {
    const G = gradients(shards, X.map((x, i) => x.map((v) => v / w[i]!)));
    X = matmul(P, X.map((x, i) => axpy(x, -lr, G[i]!)));
    w = P.map((row) => row.reduce((s, p, j) => s + p * w[j]!, 0));
    if ((k + 1) % tau === 0) {
      const mean = meanRow(X.map((x, i) => x.map((v) => v / w[i]!)));
      u = axpy(anchor, -1, mean).map((value, c) => beta * u[c]! + value / lr);
      anchor = axpy(anchor, -alpha * lr, u);
      X = repeat(n, anchor);
      w = [1, 1, 1];
    }
    assertRowsClose(history[k]!, X.map((x, i) => x.map((v) => v / w[i]!)), 1e-5, `step ${k}`);
  }
  for (const base of bases as ReturnType<typeof sgpBase>[]) assert.equal(base.weight(), 1);
});

Deno.test("slowMo refuses a zero learning rate at an outer step", async () => {
  const plan = makePlan({
    workers: 2,
    optimizer: sgd({ lr: 0 }),
    base: allReduce(),
    outer: slowMo({ tau: 2 }),
    steps: 2,
  });
  await assert.rejects(
    () => runWorkers(plan, SHARDS_2D, X0_2D),
    RangeError,
    'Cannot run slowMo outer step at step 1: it divides by the learning rate, but the learning rate is "0"',
  );
});

Deno.test("slowMoUpdate: one step by hand, and a zero rate refused", () => {
  const state = { anchor: Float64Array.from([1, 2]), momentum: Float64Array.from([1, -1]) };
  const next = slowMoUpdate(state, Float32Array.from([0.5, 2.5]), 0.5, { alpha: 2, beta: 0.5 });
  // u = 0.5 [1, −1] + [0.5, −0.5] / 0.5 = [1.5, −1.5]; x_prev = [1, 2] − 2 · 0.5 · u
  assertClose(next.momentum, [1.5, -1.5], 1e-12);
  assertClose(next.anchor, [-0.5, 3.5], 1e-12);
  assertClose(state.anchor, [1, 2], 0, "input unchanged");
  assert.throws(
    () => slowMoUpdate(state, Float32Array.from([0, 0]), 0, { alpha: 1, beta: 0 }),
    /divides by the learning rate, but the learning rate is "0"/,
  );
});
