import assert from "node:assert/strict";
import { allReduce, gossip, localSgd } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { diloco } from "../../dsl/outers/mod.ts";
import type { BufferPolicy } from "../../dsl/plan.ts";
import { learningRate, stepDecay } from "../../dsl/schedules.ts";
import { ring } from "../../topologies/mod.ts";
import { dilocoUpdate } from "./diloco.ts";
import {
  assertClose,
  assertRowsClose,
  axpy,
  bufferOf,
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

Deno.test("dilocoUpdate: two Nesterov outer steps by hand, and one heavy-ball step", () => {
  const settings = { lr: 0.7, momentum: 0.9, nesterov: true };
  const start = { global: Float64Array.from([1, 2]), momentum: Float64Array.from([0, 0]) };
  const first = dilocoUpdate(start, Float32Array.from([0.5, 2.5]), settings);
  // Δ = [0.5, −0.5]; m = Δ; θ = [1, 2] − 0.7 (Δ + 0.9 m) = [1 − 0.665, 2 + 0.665]
  assertClose(first.momentum, [0.5, -0.5], 1e-12);
  assertClose(first.global, [0.335, 2.665], 1e-12);
  assertClose(start.global, [1, 2], 0, "input unchanged");
  const second = dilocoUpdate(first, Float32Array.from([0.25, 2.5]), settings);
  // Δ = [0.085, 0.165]; m = 0.9 [0.5, −0.5] + Δ = [0.535, −0.285];
  // Δ + 0.9 m = [0.5665, −0.0915]; θ = [0.335 − 0.39655, 2.665 + 0.06405]
  assertClose(second.momentum, [0.535, -0.285], 1e-12);
  assertClose(second.global, [-0.06155, 2.72905], 1e-12);
  const heavyBall = dilocoUpdate(start, Float32Array.from([0.5, 2.5]), {
    ...settings,
    nesterov: false,
  });
  // θ = [1, 2] − 0.7 m
  assertClose(heavyBall.global, [0.65, 2.35], 1e-12);
});

for (const policy of ["keep", "reset", "average"] as const satisfies readonly BufferPolicy[]) {
  Deno.test(`diloco over gossip, Nesterov, a decaying inner lr, buffers "${policy}"`, async () => {
    const n = 4;
    const schedule = stepDecay({ lr: 0.1, factor: 0.5, every: 3 });
    const [tau, outerLr, mu, innerMu] = [2, 0.7, 0.9, 0.5];
    const plan = makePlan({
      workers: n,
      optimizer: sgd({ lr: schedule, momentum: innerMu }),
      base: gossip(ring),
      outer: diloco({ tau, buffers: policy }),
      steps: 6,
    });
    const { history, optimizers, chains, comms } = await runWorkers(plan, SHARDS_2D, X0_2D);
    const shards = SHARDS_2D.slice(0, n);
    let X = repeat(n, X0_2D);
    let V = repeat(n, [0, 0]);
    let theta: Vec = [...X0_2D];
    let m: Vec = [0, 0];
    for (let k = 0; k < 6; k++) {
      const lr = learningRate(schedule, k, 6);
      const G = gradients(shards, X);
      V = V.map((v, i) => axpy(G[i]!, innerMu, v));
      X = matmul(RING_4, X).map((x, i) => axpy(x, -lr, V[i]!));
      if ((k + 1) % tau === 0) {
        // The outer step never sees the inner lr.
        const delta = axpy(theta, -1, meanRow(X));
        m = axpy(delta, mu, m);
        theta = axpy(theta, -outerLr, axpy(delta, mu, m));
        X = repeat(n, theta);
        if (policy === "reset") V = repeat(n, [0, 0]);
        if (policy === "average") V = repeat(n, meanRow(V));
      }
      assertRowsClose(history[k]!, X, 1e-5, `step ${k}`);
    }
    assertRowsClose(optimizers.map((opt) => opt.buffers()[0]!.data), V, 1e-5, "velocity");
    for (const chain of chains) {
      assertClose(bufferOf(chain, "diloco.global"), theta, 1e-6, "θ is a float64 buffer");
      assertClose(bufferOf(chain, "diloco.momentum"), m, 1e-6, "m is a float64 buffer");
      assert.ok(bufferOf(chain, "diloco.momentum") instanceof Float64Array);
    }
    for (const comm of comms) {
      assert.equal(comm.stats().sent.outer > 0, true, "outer traffic is counted");
    }
  });
}

Deno.test("§5.11: diloco lr 1 momentum 0 over localSgd equals plain localSgd", async () => {
  const options = {
    workers: 4,
    optimizer: sgd({ lr: 0.1, momentum: 0.5 }),
    base: localSgd({ tau: 2 }),
    steps: 12,
  };
  const plain = await runWorkers(makePlan(options), SHARDS_2D, X0_2D);
  const outer = diloco({ tau: 6, lr: 1, momentum: 0 });
  const outerRun = await runWorkers(makePlan({ ...options, outer }), SHARDS_2D, X0_2D);
  for (let k = 0; k < 12; k++) {
    const expected = plain.history[k]!.map((x) => [...x]);
    assertRowsClose(outerRun.history[k]!, expected, 1e-6, `step ${k}`);
  }
});

Deno.test("diloco never divides by the inner learning rate: a zero rate runs", async () => {
  const plan = makePlan({
    workers: 2,
    optimizer: sgd({ lr: 0 }),
    base: allReduce(),
    outer: diloco({ tau: 2 }),
    steps: 4,
  });
  const { models } = await runWorkers(plan, SHARDS_2D, X0_2D);
  // Nothing moves: every pseudo-gradient is 0.
  for (const model of models) assertClose(model, X0_2D, 0);
});
