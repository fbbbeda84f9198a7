import assert from "node:assert/strict";
import { gossip } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { complete, onePeerExponential, ring, torus } from "../../topologies/mod.ts";
import { gossipUpdate } from "./gossip.ts";
import { neighborsByStep, receivedFrom } from "./neighbours.ts";
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
  SHARDS_3D,
  X0_2D,
  X0_3D,
} from "./_testing.ts";

/** One-peer exponential on 4 ranks at step k: i averages with i − 2^(k mod 2). */
function onePeer4(k: number): Mat {
  const hop = 2 ** (k % 2);
  return Array.from({ length: 4 }, (_, i) => {
    const row = [0, 0, 0, 0];
    row[i] = 0.5;
    row[(i - hop + 4) % 4] = 0.5;
    return row;
  });
}

Deno.test("gossip on a ring: X_{k+1} = W X_k − γ G_k for three steps", async () => {
  const n = 4;
  const plan = makePlan({ workers: n, optimizer: sgd({ lr: 0.1 }), base: gossip(ring), steps: 3 });
  const { history } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const shards = SHARDS_2D.slice(0, n);
  let X = repeat(n, X0_2D);
  for (let k = 0; k < 3; k++) {
    const G = gradients(shards, X);
    X = matmul(RING_4, X).map((x, i) => axpy(x, -0.1, G[i]!));
    assertRowsClose(history[k]!, X, 1e-6, `step ${k}`);
  }
  assert.notDeepEqual(history[2]![0], history[2]![1]);
});

Deno.test("gossip on the time-varying one-peer exponential graph uses step k's matrix", async () => {
  const n = 4;
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr: 0.1 }),
    base: gossip(onePeerExponential),
    steps: 3,
    dim: 3,
  });
  const { history } = await runWorkers(plan, SHARDS_3D, X0_3D);
  let X = repeat(n, X0_3D);
  for (let k = 0; k < 3; k++) {
    const G = gradients(SHARDS_3D, X);
    X = matmul(onePeer4(k), X).map((x, i) => axpy(x, -0.1, G[i]!));
    assertRowsClose(history[k]!, X, 1e-6, `step ${k}`);
  }
});

Deno.test("gossip with local momentum: the direction comes from the pre-mixing gradient", async () => {
  const n = 4;
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr: 0.05, momentum: 0.9, weightDecay: 0.01 }),
    base: gossip(ring),
    steps: 3,
  });
  const { history } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const shards = SHARDS_2D.slice(0, n);
  let X = repeat(n, X0_2D);
  let V = repeat(n, [0, 0]);
  for (let k = 0; k < 3; k++) {
    const G = gradients(shards, X).map((g, i) => axpy(g, 0.01, X[i]!));
    V = V.map((v, i) => axpy(G[i]!, 0.9, v));
    X = matmul(RING_4, X).map((x, i) => axpy(x, -0.05, V[i]!));
    assertRowsClose(history[k]!, X, 1e-6, `step ${k}`);
  }
});

Deno.test("gossip on the complete graph: x_i ← avg_j x_j − γ g_i(x_i)", async () => {
  const n = 3;
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr: 0.1 }),
    base: gossip(complete),
    steps: 3,
  });
  const { history } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const shards = SHARDS_2D.slice(0, n);
  let X = repeat(n, X0_2D);
  for (let k = 0; k < 3; k++) {
    const G = gradients(shards, X);
    const mean = meanRow(X);
    X = G.map((g) => axpy(mean, -0.1, g));
    assertRowsClose(history[k]!, X, 1e-6, `step ${k}`);
  }
});

Deno.test("gossip sends d floats to each out-neighbour under the base phase", async () => {
  const plan = makePlan({ workers: 4, optimizer: sgd({ lr: 0.1 }), base: gossip(ring), steps: 1 });
  const { comms } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const sent = comms.map((comm) => comm.stats().sent.base);
  assert.ok(sent.every((bytes) => bytes === sent[0] && bytes >= 2 * 2 * 4));
});

Deno.test("gossipUpdate: weighted sum of the models minus the step", () => {
  const next = gossipUpdate(
    Float32Array.from([3, 0]),
    0.5,
    [
      { weight: 0.25, data: Float32Array.from([1, 4]) },
      { weight: 0.25, data: Float32Array.from([-1, 8]) },
    ],
    0.5,
    Float32Array.from([1, 2]),
  );
  // [1.5 + 0.25 − 0.25 − 0.5, 0 + 1 + 2 − 1]
  assertClose(next, [1, 2], 0);
  assert.throws(
    () => gossipUpdate(Float32Array.from([1]), 1, [], 0.1, Float32Array.from([1, 2])),
    /Length mismatch/,
  );
});

Deno.test("neighborsByStep memoises one period and follows the step", () => {
  const at = neighborsByStep(onePeerExponential(), 4, 0);
  assert.deepEqual(at(0).receiveFrom.map((p) => p.rank), [3]);
  assert.deepEqual(at(1).receiveFrom.map((p) => p.rank), [2]);
  assert.equal(at(2), at(0));
  const torusAt = neighborsByStep(torus({ rows: 2, cols: 3 }), 6, 0);
  assert.equal(torusAt(7), torusAt(0));
});

Deno.test("receivedFrom names a missing peer", () => {
  assert.throws(
    () => receivedFrom(new Map([[1, new Float32Array(1)]]), [1, 2], "gossip"),
    /Cannot run gossip: nothing received from worker 2/,
  );
});
