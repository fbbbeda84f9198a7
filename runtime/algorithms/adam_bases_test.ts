/**
 * Adam as the local optimizer under every base that allows it (docs/algorithms.md §0.1), each
 * against a float64 reference written from the update rules: the base's mixing as in its own
 * test, with Adam's direction in place of the gradient.
 */

import assert from "node:assert/strict";
import { allReduce, gossip, localSgd, overlapLocalSgd, sgp } from "../../dsl/bases/mod.ts";
import { adam } from "../../dsl/optimizers/mod.ts";
import { slowMo } from "../../dsl/outers/mod.ts";
import { ring, star } from "../../topologies/mod.ts";
import {
  AdamReference,
  type AdamReferenceSettings,
  assertRowsClose,
  axpy,
  bufferOf,
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
  type Vec,
  X0_2D,
  X0_3D,
} from "./_testing.ts";

const LR = 0.05;

/** Adam's defaults with the two switches the tests vary. */
function settings(biasCorrection: boolean, amsgrad: boolean): AdamReferenceSettings {
  return { beta1: 0.9, beta2: 0.999, eps: 1e-8, biasCorrection, amsgrad };
}

for (const biasCorrection of [true, false]) {
  for (const amsgrad of [false, true]) {
    Deno.test(`allReduce + adam (biasCorrection ${biasCorrection}, amsgrad ${amsgrad}): one Adam on the mean gradient`, async () => {
      const n = 3;
      const steps = 6;
      const plan = makePlan({
        workers: n,
        optimizer: adam({ lr: LR, biasCorrection, amsgrad }),
        base: allReduce(),
        steps,
      });
      const { history, chains } = await runWorkers(plan, SHARDS_2D, X0_2D);
      const reference = new AdamReference(1, 2, settings(biasCorrection, amsgrad));
      let x: Vec = [...X0_2D];
      for (let k = 0; k < steps; k++) {
        const mean = meanRow(gradients(SHARDS_2D.slice(0, n), repeat(n, x)));
        x = axpy(x, -LR, reference.direction(0, mean));
        assertRowsClose(history[k]!, repeat(n, x), 1e-5, `step ${k}`);
      }
      assert.equal(bufferOf(chains[0]!, "adam.count")[0], steps);
    });
  }
}

for (const policy of ["keep", "reset", "average"] as const) {
  Deno.test(`localSgd tau 2 + adam (amsgrad), buffers "${policy}"`, async () => {
    const n = 3;
    const steps = 6;
    const plan = makePlan({
      workers: n,
      optimizer: adam({ lr: LR, amsgrad: true }),
      base: localSgd({ tau: 2, buffers: policy }),
      steps,
    });
    const { history, chains } = await runWorkers(plan, SHARDS_2D, X0_2D);
    const shards = SHARDS_2D.slice(0, n);
    const reference = new AdamReference(n, 2, settings(true, true));
    let X = repeat(n, X0_2D);
    for (let k = 0; k < steps; k++) {
      const D = reference.directions(gradients(shards, X));
      X = X.map((x, i) => axpy(x, -LR, D[i]!));
      if ((k + 1) % 2 === 0) {
        X = repeat(n, meanRow(X));
        if (policy === "reset") reference.reset();
        if (policy === "average") reference.average();
      }
      assertRowsClose(history[k]!, X, 1e-5, `step ${k}`);
    }
    // The moments the runtime holds are the reference's, whatever the policy did to them.
    assertRowsClose(chains.map((chain) => bufferOf(chain, "adam.m")), reference.M, 1e-5, "m");
    assertRowsClose(chains.map((chain) => bufferOf(chain, "adam.vMax")), reference.VMax, 1e-5);
    assert.equal(bufferOf(chains[0]!, "adam.count")[0], policy === "reset" ? 0 : steps);
  });
}

Deno.test("gossip on a ring + adam: X ← W X − γ D, D from the pre-mixing gradients", async () => {
  const n = 4;
  const steps = 4;
  const plan = makePlan({ workers: n, optimizer: adam({ lr: LR }), base: gossip(ring), steps });
  const { history } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const reference = new AdamReference(n, 2, settings(true, false));
  let X = repeat(n, X0_2D);
  for (let k = 0; k < steps; k++) {
    const D = reference.directions(gradients(SHARDS_2D.slice(0, n), X));
    X = matmul(RING_4, X).map((x, i) => axpy(x, -LR, D[i]!));
    assertRowsClose(history[k]!, X, 1e-5, `step ${k}`);
  }
});

Deno.test("sgp on a star + adam: the direction of the de-biased model's gradient is pushed", async () => {
  const t = 1 / 3;
  const P: Mat = [[t, 0.5, 0.5], [t, 0.5, 0], [t, 0, 0.5]];
  const n = 3;
  const steps = 4;
  const plan = makePlan({ workers: n, optimizer: adam({ lr: LR }), base: sgp(star()), steps });
  const { history } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const reference = new AdamReference(n, 2, settings(true, false));
  let X = repeat(n, X0_2D);
  let w = new Array<number>(n).fill(1);
  for (let k = 0; k < steps; k++) {
    const Z = X.map((x, i) => x.map((value) => value / w[i]!));
    const D = reference.directions(gradients(SHARDS_2D.slice(0, n), Z));
    X = matmul(P, X.map((x, i) => axpy(x, -LR, D[i]!)));
    w = P.map((row) => row.reduce((sum, p, j) => sum + p * w[j]!, 0));
    const expected = X.map((x, i) => x.map((value) => value / w[i]!));
    assertRowsClose(history[k]!, expected, 1e-5, `step ${k}`);
  }
});

for (const beta of [0, 0.5]) {
  Deno.test(`overlapLocalSgd (beta ${beta}) + adam follows the float64 reference`, async () => {
    const [n, steps, tau, alpha] = [4, 8, 2, 0.6];
    const plan = makePlan({
      workers: n,
      optimizer: adam({ lr: LR }),
      base: overlapLocalSgd({ tau, alpha, beta }),
      steps,
      dim: 3,
    });
    const { history } = await runWorkers(plan, SHARDS_3D, X0_3D);
    // Overlap Local-SGD (§1.7): the anchor is the mean launched at the previous sync point.
    const reference = new AdamReference(n, 3, settings(true, false));
    let X = repeat(n, X0_3D);
    let z: Vec = [...X0_3D];
    let B = repeat(n, [0, 0, 0]);
    let inFlight: Vec | null = null;
    for (let k = 0; k < steps; k++) {
      const D = reference.directions(gradients(SHARDS_3D, X));
      X = X.map((x, i) => axpy(x, -LR, D[i]!));
      if ((k + 1) % tau === 0) {
        if (inFlight !== null) z = inFlight;
        X = X.map((x) => x.map((value, j) => (1 - alpha) * value + alpha * z[j]!));
        let send = X;
        if (beta > 0) {
          B = B.map((b, i) => b.map((value, j) => beta * value + (z[j]! - X[i]![j]!) / LR));
          send = B.map((b) => b.map((value, j) => z[j]! - LR * value));
        }
        inFlight = meanRow(send);
      }
      assertRowsClose(history[k]!, X, 1e-5, `step ${k}`);
    }
  });
}

Deno.test("slowMo over localSgd + adam (the DiLoCo pairing): inner Adam, outer momentum", async () => {
  const [n, steps, tau, outerTau, alpha, beta] = [3, 8, 2, 4, 1, 0.7];
  const plan = makePlan({
    workers: n,
    optimizer: adam({ lr: LR }),
    base: localSgd({ tau }),
    outer: slowMo({ tau: outerTau, alpha, beta }),
    steps,
  });
  const { history, chains } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const shards = SHARDS_2D.slice(0, n);
  const reference = new AdamReference(n, 2, settings(true, false));
  let X = repeat(n, X0_2D);
  let anchor: Vec = [...X0_2D];
  let u: Vec = [0, 0];
  for (let k = 0; k < steps; k++) {
    const D = reference.directions(gradients(shards, X));
    X = X.map((x, i) => axpy(x, -LR, D[i]!));
    if ((k + 1) % outerTau === 0) {
      // SlowMo's own exact average replaces local SGD's at the steps both would average.
      u = axpy(anchor, -1, meanRow(X)).map((value, c) => beta * u[c]! + value / LR);
      anchor = axpy(anchor, -alpha * LR, u);
      X = repeat(n, anchor);
    } else if ((k + 1) % tau === 0) {
      X = repeat(n, meanRow(X));
    }
    assertRowsClose(history[k]!, X, 1e-5, `step ${k}`);
  }
  // Buffers "keep" (SlowMo's default): the inner moments were never reset.
  assertRowsClose(chains.map((chain) => bufferOf(chain, "adam.m")), reference.M, 1e-5, "m");
});
