import assert from "node:assert/strict";
import { gossip, localSgd } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { bmuf, slowMo } from "../../dsl/outers/mod.ts";
import { ring } from "../../topologies/mod.ts";
import { bmufUpdate } from "./bmuf.ts";
import {
  assertClose,
  assertRowsClose,
  axpy,
  gradients,
  makePlan,
  matmul,
  meanRow,
  repeat,
  RING_4,
  runWorkers,
  SHARDS_2D,
  type Vec,
  X0_2D,
} from "./_testing.ts";

for (const nesterov of [false, true]) {
  Deno.test(`bmuf over gossip, default block momentum, nesterov ${nesterov}`, async () => {
    const n = 4;
    const [tau, zeta, eta, lr] = [2, 1.5, 1 - 1 / n, 0.1];
    const plan = makePlan({
      workers: n,
      optimizer: sgd({ lr }),
      base: gossip(ring),
      outer: bmuf({ tau, blockLr: zeta, nesterov }),
      steps: 6,
    });
    const { history } = await runWorkers(plan, SHARDS_2D, X0_2D);
    const shards = SHARDS_2D.slice(0, n);
    let X = repeat(n, X0_2D);
    let W: Vec = [...X0_2D];
    let delta: Vec = [0, 0];
    for (let k = 0; k < 6; k++) {
      const G = gradients(shards, X);
      X = matmul(RING_4, X).map((x, i) => axpy(x, -lr, G[i]!));
      if ((k + 1) % tau === 0) {
        const block = axpy(meanRow(X), -1, W);
        delta = axpy(block.map((g) => zeta * g), eta, delta);
        W = axpy(W, 1, delta);
        X = repeat(n, nesterov ? axpy(W, eta, delta) : W);
      }
      assertRowsClose(history[k]!, X, 1e-5, `step ${k}`);
    }
  });
}

Deno.test("§5.2: slowMo(alpha, beta) equals bmuf(blockLr = alpha, blockMomentum = beta)", async () => {
  const options = {
    workers: 4,
    optimizer: sgd({ lr: 0.05, momentum: 0.5 }),
    base: gossip(ring),
    steps: 9,
  };
  const slow = await runWorkers(
    makePlan({ ...options, outer: slowMo({ tau: 3, alpha: 0.8, beta: 0.6 }) }),
    SHARDS_2D,
    X0_2D,
  );
  const block = await runWorkers(
    makePlan({ ...options, outer: bmuf({ tau: 3, blockLr: 0.8, blockMomentum: 0.6 }) }),
    SHARDS_2D,
    X0_2D,
  );
  for (let k = 0; k < 9; k++) {
    const expected = block.history[k]!.map((x) => [...x]);
    assertRowsClose(slow.history[k]!, expected, 1e-5, `step ${k}`);
  }
});

Deno.test("bmuf's default block momentum is 1 − 1/n", async () => {
  const options = { workers: 3, optimizer: sgd({ lr: 0.1 }), base: localSgd({ tau: 1 }), steps: 4 };
  const implicit = await runWorkers(
    makePlan({ ...options, outer: bmuf({ tau: 2 }) }),
    SHARDS_2D,
    X0_2D,
  );
  const explicit = await runWorkers(
    makePlan({ ...options, outer: bmuf({ tau: 2, blockMomentum: 2 / 3 }) }),
    SHARDS_2D,
    X0_2D,
  );
  assert.deepEqual(implicit.models, explicit.models);
});

Deno.test("bmufUpdate: one block by hand", () => {
  const state = { global: Float64Array.from([1, 1]), delta: Float64Array.from([0.5, 0]) };
  const settings = { blockLr: 2, blockMomentum: 0.5, nesterov: false };
  const next = bmufUpdate(state, Float32Array.from([2, 0]), settings);
  // G = [1, −1]; Δ = 0.5 [0.5, 0] + 2 G = [2.25, −2]; W = [3.25, −1]
  assertClose(next.state.delta, [2.25, -2], 1e-12);
  assertClose(next.state.global, [3.25, -1], 1e-12);
  assertClose(next.restart, [3.25, -1], 0);
  const nesterov = bmufUpdate(state, Float32Array.from([2, 0]), { ...settings, nesterov: true });
  // W + η Δ
  assertClose(nesterov.restart, [4.375, -2], 0);
  assert.throws(() => bmufUpdate(state, new Float32Array(3), settings), /Length mismatch/);
});
