import assert from "node:assert/strict";
import { allReduce } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import {
  assertRowsClose,
  axpy,
  gradients,
  makePlan,
  meanRow,
  repeat,
  runWorkers,
  SHARDS_3D,
  type Vec,
  X0_3D,
} from "./_testing.ts";

Deno.test("allReduce: three steps of x ← x − γ avg_i ∇f_i(x), models identical", async () => {
  const n = 4;
  const plan = makePlan({ workers: n, optimizer: sgd({ lr: 0.1 }), base: allReduce(), steps: 3 });
  const { history } = await runWorkers(plan, SHARDS_3D, X0_3D);
  let x: Vec = [...X0_3D];
  for (let k = 0; k < 3; k++) {
    x = axpy(x, -0.1, meanRow(gradients(SHARDS_3D, repeat(n, x))));
    assertRowsClose(history[k]!, repeat(n, x), 1e-6, `step ${k}`);
    for (const model of history[k]!) assert.deepEqual(model, history[k]![0], "bit-identical");
  }
});

Deno.test("allReduce: momentum applies to the averaged gradient", async () => {
  const n = 3;
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr: 0.05, momentum: 0.9, nesterov: true }),
    base: allReduce(),
    steps: 3,
    dim: 3,
  });
  const { history } = await runWorkers(plan, SHARDS_3D, X0_3D);
  let x: Vec = [...X0_3D];
  let v: Vec = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    const g = meanRow(gradients(SHARDS_3D.slice(0, n), repeat(n, x)));
    v = axpy(g, 0.9, v);
    x = axpy(x, -0.05, axpy(g, 0.9, v));
    assertRowsClose(history[k]!, repeat(n, x), 1e-6, `step ${k}`);
  }
});

Deno.test("allReduce: traffic is counted under the base phase", async () => {
  const plan = makePlan({ workers: 2, optimizer: sgd({ lr: 0.1 }), base: allReduce(), steps: 2 });
  const { comms } = await runWorkers(plan, SHARDS_3D, X0_3D);
  for (const comm of comms) {
    assert.ok(comm.stats().sent.base > 0);
    assert.equal(comm.stats().sent.outer, 0);
  }
});
