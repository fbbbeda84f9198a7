import assert from "node:assert/strict";
import { allReduce, localSgd } from "../../dsl/bases/mod.ts";
import { adam, sgd } from "../../dsl/optimizers/mod.ts";
import type { BufferPolicy } from "../../dsl/plan.ts";
import {
  assertRowsClose,
  axpy,
  gradients,
  makePlan,
  type Mat,
  meanRow,
  repeat,
  runWorkers,
  SHARDS_2D,
  X0_2D,
} from "./_testing.ts";

/** Float64 reference of local SGD with momentum and a buffer policy. */
function reference(
  n: number,
  steps: number,
  tau: number,
  lr: number,
  mu: number,
  policy: BufferPolicy,
): Mat[] {
  const shards = SHARDS_2D.slice(0, n);
  let X = repeat(n, X0_2D);
  let V = repeat(n, [0, 0]);
  const out: Mat[] = [];
  for (let k = 0; k < steps; k++) {
    const G = gradients(shards, X);
    V = V.map((v, i) => axpy(G[i]!, mu, v));
    X = X.map((x, i) => axpy(x, -lr, V[i]!));
    if ((k + 1) % tau === 0) {
      X = repeat(n, meanRow(X));
      if (policy === "reset") V = repeat(n, [0, 0]);
      if (policy === "average") V = repeat(n, meanRow(V));
    }
    out.push(X);
  }
  return out;
}

for (const policy of ["keep", "reset", "average"] as const) {
  Deno.test(`localSgd tau 2 with momentum, buffers "${policy}"`, async () => {
    const n = 3;
    const plan = makePlan({
      workers: n,
      optimizer: sgd({ lr: 0.1, momentum: 0.5 }),
      base: localSgd({ tau: 2, buffers: policy }),
      steps: 4,
    });
    const { history, optimizers } = await runWorkers(plan, SHARDS_2D, X0_2D);
    const expected = reference(n, 4, 2, 0.1, 0.5, policy);
    history.forEach((models, k) => assertRowsClose(models, expected[k]!, 1e-6, `step ${k}`));
    // The run ends on an averaging step (k = 3).
    const [v0, v1] = optimizers.map((opt) => opt.buffers()[0]!.data);
    if (policy === "keep") assert.notDeepEqual(v0, v1);
    if (policy === "reset") assert.deepEqual([...v0!, ...v1!], [0, 0, 0, 0]);
    if (policy === "average") assert.deepEqual(v0, v1);
  });
}

Deno.test("localSgd: models differ between averagings and agree right after", async () => {
  const plan = makePlan({
    workers: 4,
    optimizer: sgd({ lr: 0.1 }),
    base: localSgd({ tau: 3 }),
    steps: 3,
  });
  const { history } = await runWorkers(plan, SHARDS_2D, X0_2D);
  assert.notDeepEqual(history[1]![0], history[1]![1]);
  for (const model of history[2]!) assert.deepEqual(model, history[2]![0]);
});

Deno.test("§5.3: localSgd tau 1 with plain SGD equals allReduce", async () => {
  const options = { workers: 4, optimizer: sgd({ lr: 0.1 }), steps: 4 };
  const local = await runWorkers(
    makePlan({ ...options, base: localSgd({ tau: 1 }) }),
    SHARDS_2D,
    X0_2D,
  );
  const reduce = await runWorkers(makePlan({ ...options, base: allReduce() }), SHARDS_2D, X0_2D);
  for (let k = 0; k < 4; k++) {
    const expected = reduce.history[k]!.map((x) => [...x]);
    assertRowsClose(local.history[k]!, expected, 1e-6, `step ${k}`);
  }
});

Deno.test('localSgd with adam and buffers "reset" restarts the bias-correction count', async () => {
  const n = 2;
  const lr = 0.05;
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  const plan = makePlan({
    workers: n,
    optimizer: adam({ lr }),
    base: localSgd({ tau: 2, buffers: "reset" }),
    steps: 4,
  });
  const { history } = await runWorkers(plan, SHARDS_2D, X0_2D);
  // Float64 reference: after each average the moments are zeroed and the count t restarts, so
  // steps 2 and 3 are corrected with 1 − β^1 and 1 − β^2 again, not 1 − β^3 and 1 − β^4.
  let X = repeat(n, X0_2D);
  let M = repeat(n, [0, 0]);
  let V = repeat(n, [0, 0]);
  let t = 0;
  for (let k = 0; k < 4; k++) {
    const G = gradients(SHARDS_2D.slice(0, n), X);
    M = M.map((m, i) => m.map((value, j) => beta1 * value + (1 - beta1) * G[i]![j]!));
    V = V.map((v, i) => v.map((value, j) => beta2 * value + (1 - beta2) * G[i]![j]! ** 2));
    t++;
    X = X.map((x, i) =>
      x.map((value, j) => {
        const m = M[i]![j]! / (1 - beta1 ** t);
        const v = V[i]![j]! / (1 - beta2 ** t);
        return value - lr * m / (Math.sqrt(v) + eps);
      })
    );
    if ((k + 1) % 2 === 0) {
      X = repeat(n, meanRow(X));
      M = repeat(n, [0, 0]);
      V = repeat(n, [0, 0]);
      t = 0;
    }
    assertRowsClose(history[k]!, X, 1e-5, `step ${k}`);
  }
});
