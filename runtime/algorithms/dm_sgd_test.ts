import assert from "node:assert/strict";
import { dmSgd } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { slowMo } from "../../dsl/outers/mod.ts";
import { customTopology, onePeerExponential, ring } from "../../topologies/mod.ts";
import {
  assertRowsClose,
  axpy,
  bufferOf,
  gradients,
  makePlan,
  type Mat,
  matmul,
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

/** Float64 DmSGD: `M = βM + G`; `X = W (X − γ M)`, for `steps` steps of `W(k)`. */
function reference(
  W: (k: number) => Mat,
  shards: typeof SHARDS_2D,
  x0: readonly number[],
  steps: number,
  lr: number,
  beta: number,
  weightDecay = 0,
): Mat[] {
  const n = W(0).length;
  let X = repeat(n, x0);
  let M = repeat(n, x0.map(() => 0));
  const out: Mat[] = [];
  for (let k = 0; k < steps; k++) {
    const G = gradients(shards.slice(0, n), X).map((g, i) => axpy(g, weightDecay, X[i]!));
    M = M.map((m, i) => axpy(G[i]!, beta, m));
    X = matmul(W(k), X.map((x, i) => axpy(x, -lr, M[i]!)));
    out.push(X);
  }
  return out;
}

Deno.test("dmSgd on a ring: M = βM + G, X = W(X − γM), weight decay in the gradient", async () => {
  const plan = makePlan({
    workers: 4,
    optimizer: sgd({ lr: 0.1, weightDecay: 0.01 }),
    base: dmSgd(ring, { beta: 0.9 }),
    steps: 4,
  });
  const { history } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const expected = reference(() => RING_4, SHARDS_2D, X0_2D, 4, 0.1, 0.9, 0.01);
  history.forEach((models, k) => assertRowsClose(models, expected[k]!, 1e-6, `step ${k}`));
  assert.notDeepEqual(history[3]![0], history[3]![1]);
});

Deno.test("dmSgd on the time-varying one-peer exponential graph uses step k's matrix", async () => {
  const plan = makePlan({
    workers: 4,
    optimizer: sgd({ lr: 0.05 }),
    base: dmSgd(onePeerExponential, { beta: 0.5 }),
    steps: 4,
    dim: 3,
  });
  const { history } = await runWorkers(plan, SHARDS_3D, X0_3D);
  const expected = reference(onePeer4, SHARDS_3D, X0_3D, 4, 0.05, 0.5);
  history.forEach((models, k) => assertRowsClose(models, expected[k]!, 1e-6, `step ${k}`));
});

Deno.test("dmSgd on a custom preset of two alternating matrices", async () => {
  const a = [[0.5, 0.5, 0], [0.5, 0.5, 0], [0, 0, 1]];
  const b = [[1, 0, 0], [0, 0.5, 0.5], [0, 0.5, 0.5]];
  const plan = makePlan({
    workers: 3,
    optimizer: sgd({ lr: 0.1 }),
    base: dmSgd(customTopology([a, b], { name: "alternating" }), { beta: 0.8 }),
    steps: 4,
  });
  const { history } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const expected = reference((k) => (k % 2 === 0 ? a : b), SHARDS_2D, X0_2D, 4, 0.1, 0.8);
  history.forEach((models, k) => assertRowsClose(models, expected[k]!, 1e-6, `step ${k}`));
});

for (const policy of ["reset", "average"] as const) {
  Deno.test(`slowMo's buffer policy "${policy}" reaches dmSgd's momentum`, async () => {
    const plan = makePlan({
      workers: 4,
      optimizer: sgd({ lr: 0.1 }),
      base: dmSgd(ring, { beta: 0.9 }),
      outer: slowMo({ tau: 3, beta: 0.5, buffers: policy }),
      steps: 3,
    });
    const { chains } = await runWorkers(plan, SHARDS_2D, X0_2D);
    const momenta = chains.map((chain) => [...bufferOf(chain, "dmSgd.momentum")]);
    if (policy === "reset") { for (const m of momenta) assert.deepEqual(m, [0, 0]); }
    else {
      for (const m of momenta) assert.deepEqual(m, momenta[0]);
      assert.notDeepEqual(momenta[0], [0, 0]);
    }
  });
}
