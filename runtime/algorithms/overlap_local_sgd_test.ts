import assert from "node:assert/strict";
import { overlapLocalSgd } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import {
  assertRowsClose,
  axpy,
  gradients,
  makePlan,
  type Mat,
  meanRow,
  repeat,
  runWorkers,
  SHARDS_3D,
  type Vec,
  X0_3D,
} from "./_testing.ts";

/**
 * Float64 Overlap Local-SGD (docs/algorithms.md §1.7): local steps; at a sync point the mean
 * launched at the previous one becomes the anchor `z`, workers pull back towards `z`, and the
 * mean of what they send next becomes the anchor at the following sync point.
 */
function reference(steps: number, tau: number, lr: number, alpha: number, beta: number): Mat[] {
  const n = 4;
  let X = repeat(n, X0_3D);
  let z: Vec = [...X0_3D];
  let B = repeat(n, [0, 0, 0]);
  let inFlight: Vec | null = null;
  const out: Mat[] = [];
  for (let k = 0; k < steps; k++) {
    const G = gradients(SHARDS_3D, X);
    X = X.map((x, i) => axpy(x, -lr, G[i]!));
    if ((k + 1) % tau === 0) {
      if (inFlight !== null) z = inFlight;
      X = X.map((x) => x.map((value, j) => (1 - alpha) * value + alpha * z[j]!));
      let send = X;
      if (beta > 0) {
        B = B.map((b, i) => b.map((value, j) => beta * value + (z[j]! - X[i]![j]!) / lr));
        send = B.map((b) => b.map((value, j) => z[j]! - lr * value));
      }
      inFlight = meanRow(send);
    }
    out.push(X);
  }
  return out;
}

for (const beta of [0, 0.5]) {
  Deno.test(`overlapLocalSgd with beta ${beta} follows the float64 reference`, async () => {
    const plan = makePlan({
      workers: 4,
      optimizer: sgd({ lr: 0.1 }),
      base: overlapLocalSgd({ tau: 2, alpha: 0.6, beta }),
      steps: 8,
      dim: 3,
    });
    const { history, chains } = await runWorkers(plan, SHARDS_3D, X0_3D);
    const expected = reference(8, 2, 0.1, 0.6, beta);
    history.forEach((models, k) => assertRowsClose(models, expected[k]!, 1e-5, `step ${k}`));
    // Workers never agree exactly: they only pull towards a stale average.
    assert.notDeepEqual(history[7]![0], history[7]![1]);
    // After finish() the last average arrived and became every worker's anchor.
    const anchors = chains.map((chain) => [...chain.buffers().at(-1)!.data]);
    for (const anchor of anchors) assert.deepEqual(anchor, anchors[0]);
  });
}

Deno.test("overlapLocalSgd reports how long each sync point waited for the previous average", async () => {
  const plan = makePlan({
    workers: 4,
    optimizer: sgd({ lr: 0.1 }),
    base: overlapLocalSgd({ tau: 2 }),
    steps: 6,
    dim: 3,
  });
  const { metrics, comms } = await runWorkers(plan, SHARDS_3D, X0_3D);
  for (const steps of metrics) {
    // No average is in flight at the first sync point (k = 1), nor between sync points.
    for (const k of [0, 1, 2, 4]) assert.deepEqual(steps[k], {}, `step ${k}`);
    for (const k of [3, 5]) {
      assert.equal(typeof steps[k]!.blockedMs, "number");
      assert.ok((steps[k]!.allReduceMs as number) >= 0);
    }
  }
  // Three all-reduces of 3 floats (sync points 1, 3, 5), all under the base phase.
  for (const comm of comms) {
    assert.ok(comm.stats().sent.base > 0);
    assert.equal(comm.stats().sent.outer, 0);
  }
});
