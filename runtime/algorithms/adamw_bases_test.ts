/**
 * AdamW as the local optimizer under every base that takes one (docs/algorithms.md §0.1), each
 * against a float64 reference written from the update rules: the base's mixing as in its own
 * test, with `dir_i + wd · x_i` (Adam's direction plus the decoupled decay, at the model the
 * gradient was taken at) in place of the gradient. Also: its schedule, and a compressor that
 * never sees the decay.
 */

import assert from "node:assert/strict";
import { allReduce, gossip, localSgd, overlapLocalSgd, sgp } from "../../dsl/bases/mod.ts";
import { topK } from "../../dsl/compressors/mod.ts";
import { adamw } from "../../dsl/optimizers/mod.ts";
import { slowMo } from "../../dsl/outers/mod.ts";
import { cosine, warmup } from "../../dsl/schedules.ts";
import { ring, star } from "../../topologies/mod.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { createTrainingChain } from "./chain.ts";
import {
  AdamReference,
  assertClose,
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
const WD = 0.2;

/** A float64 Adam with AdamW's defaults (`β2 = 0.95`, bias correction, no AMSGrad). */
function reference(n: number, d: number): AdamReference {
  return new AdamReference(n, d, {
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    biasCorrection: true,
    amsgrad: false,
  });
}

/** AdamW's directions: Adam's of each worker's gradient, plus `wd · x_i`. */
function adamwDirections(adam: AdamReference, G: Mat, X: Mat): Mat {
  return adam.directions(G).map((dir, i) => axpy(dir, WD, X[i]!));
}

Deno.test("allReduce + adamw: one AdamW on the mean gradient, the decay on the common model", async () => {
  const [n, steps] = [3, 6];
  const plan = makePlan({
    workers: n,
    optimizer: adamw({ lr: LR, weightDecay: WD }),
    base: allReduce(),
    steps,
  });
  const { history, chains } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const adam = reference(1, 2);
  let x: Vec = [...X0_2D];
  for (let k = 0; k < steps; k++) {
    const mean = meanRow(gradients(SHARDS_2D.slice(0, n), repeat(n, x)));
    x = axpy(x, -LR, adamwDirections(adam, [mean], [x])[0]!);
    assertRowsClose(history[k]!, repeat(n, x), 1e-5, `step ${k}`);
  }
  // The moments are Adam's of the mean gradient alone: no decay in them.
  assertClose(bufferOf(chains[0]!, "adamw.m"), adam.M[0]!, 1e-5, "m");
  assertClose(bufferOf(chains[0]!, "adamw.v"), adam.V[0]!, 1e-5, "v");
  assert.equal(bufferOf(chains[0]!, "adamw.count")[0], steps);
});

for (const policy of ["keep", "reset", "average"] as const) {
  Deno.test(`localSgd tau 2 + adamw, buffers "${policy}"`, async () => {
    const [n, steps, tau] = [3, 6, 2];
    const plan = makePlan({
      workers: n,
      optimizer: adamw({ lr: LR, weightDecay: WD }),
      base: localSgd({ tau, buffers: policy }),
      steps,
    });
    const { history, chains } = await runWorkers(plan, SHARDS_2D, X0_2D);
    const shards = SHARDS_2D.slice(0, n);
    const adam = reference(n, 2);
    let X = repeat(n, X0_2D);
    for (let k = 0; k < steps; k++) {
      const D = adamwDirections(adam, gradients(shards, X), X);
      X = X.map((x, i) => axpy(x, -LR, D[i]!));
      if ((k + 1) % tau === 0) {
        X = repeat(n, meanRow(X));
        if (policy === "reset") adam.reset();
        if (policy === "average") adam.average();
      }
      assertRowsClose(history[k]!, X, 1e-5, `step ${k}`);
    }
    assertRowsClose(chains.map((chain) => bufferOf(chain, "adamw.m")), adam.M, 1e-5, "m");
    assertRowsClose(chains.map((chain) => bufferOf(chain, "adamw.v")), adam.V, 1e-5, "v");
    assert.equal(bufferOf(chains[0]!, "adamw.count")[0], policy === "reset" ? 0 : steps);
  });
}

Deno.test('localSgd + adamw, buffers "reset": the step after a reset is a first step again, by hand', async () => {
  // Two workers, tau 2, three steps: step 2 follows the reset after step 1.
  const [n, tau, eps] = [2, 2, 1e-8];
  const run = (buffers: "keep" | "reset") =>
    runWorkers(
      makePlan({
        workers: n,
        optimizer: adamw({ lr: LR, weightDecay: WD }),
        base: localSgd({ tau, buffers }),
        steps: 3,
      }),
      SHARDS_2D,
      X0_2D,
    );
  const reset = await run("reset");
  const kept = await run("keep");
  // The models are equal up to the average after step 1 (float32, as the runtime holds them).
  assert.deepEqual(reset.history[1], kept.history[1]);
  const x = [...reset.history[1]![0]!];
  reset.history[2]!.forEach((model, i) => {
    const g = gradients([SHARDS_2D[i]!], [x])[0]!;
    // Count restarted at 0: m̃ = g and ṽ = g², so dir = g / (|g| + eps) + wd · x.
    const first = g.map((gc, c) => gc / (Math.abs(gc) + eps) + WD * x[c]!);
    assertClose(model, axpy(x, -LR, first), 1e-6, `worker ${i}`);
    // With "keep", the third direction is bias-corrected with t = 3: 2.7e-4 and more away.
    const gap = Math.max(...[0, 1].map((c) => Math.abs(kept.history[2]![i]![c]! - model[c]!)));
    assert.ok(gap > 1e-4, `worker ${i}: keep and reset agree (${gap}), the count did not restart`);
  });
  for (const chain of reset.chains) assert.equal(bufferOf(chain, "adamw.count")[0], 1);
});

Deno.test("gossip on a ring + adamw: X ← W X − γ (D + wd X), all at the pre-mixing models", async () => {
  const [n, steps] = [4, 4];
  const plan = makePlan({
    workers: n,
    optimizer: adamw({ lr: LR, weightDecay: WD }),
    base: gossip(ring),
    steps,
  });
  const { history } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const adam = reference(n, 2);
  let X = repeat(n, X0_2D);
  for (let k = 0; k < steps; k++) {
    const D = adamwDirections(adam, gradients(SHARDS_2D.slice(0, n), X), X);
    X = matmul(RING_4, X).map((x, i) => axpy(x, -LR, D[i]!));
    assertRowsClose(history[k]!, X, 1e-5, `step ${k}`);
  }
});

Deno.test("sgp on a star + adamw: the decay is taken at the de-biased model, like the gradient", async () => {
  const t = 1 / 3;
  const P: Mat = [[t, 0.5, 0.5], [t, 0.5, 0], [t, 0, 0.5]];
  const [n, steps] = [3, 4];
  const plan = makePlan({
    workers: n,
    optimizer: adamw({ lr: LR, weightDecay: WD }),
    base: sgp(star()),
    steps,
  });
  const { history } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const adam = reference(n, 2);
  let X = repeat(n, X0_2D);
  let w = new Array<number>(n).fill(1);
  for (let k = 0; k < steps; k++) {
    const Z = X.map((x, i) => x.map((value) => value / w[i]!));
    const D = adamwDirections(adam, gradients(SHARDS_2D.slice(0, n), Z), Z);
    X = matmul(P, X.map((x, i) => axpy(x, -LR, D[i]!)));
    w = P.map((row) => row.reduce((sum, p, j) => sum + p * w[j]!, 0));
    const expected = X.map((x, i) => x.map((value) => value / w[i]!));
    assertRowsClose(history[k]!, expected, 1e-5, `step ${k}`);
  }
});

Deno.test("overlapLocalSgd + adamw follows the float64 reference", async () => {
  const [n, steps, tau, alpha] = [4, 8, 2, 0.6];
  const plan = makePlan({
    workers: n,
    optimizer: adamw({ lr: LR, weightDecay: WD }),
    base: overlapLocalSgd({ tau, alpha }),
    steps,
    dim: 3,
  });
  const { history } = await runWorkers(plan, SHARDS_3D, X0_3D);
  const adam = reference(n, 3);
  let X = repeat(n, X0_3D);
  let z: Vec = [...X0_3D];
  let inFlight: Vec | null = null;
  for (let k = 0; k < steps; k++) {
    const D = adamwDirections(adam, gradients(SHARDS_3D, X), X);
    X = X.map((x, i) => axpy(x, -LR, D[i]!));
    if ((k + 1) % tau === 0) {
      if (inFlight !== null) z = inFlight;
      X = X.map((x) => x.map((value, j) => (1 - alpha) * value + alpha * z[j]!));
      inFlight = meanRow(X);
    }
    assertRowsClose(history[k]!, X, 1e-5, `step ${k}`);
  }
});

Deno.test("slowMo over localSgd + adamw (the DiLoCo pairing) follows the float64 reference", async () => {
  const [n, steps, tau, outerTau, alpha, beta] = [3, 8, 2, 4, 1, 0.7];
  const plan = makePlan({
    workers: n,
    optimizer: adamw({ lr: LR, weightDecay: WD }),
    base: localSgd({ tau }),
    outer: slowMo({ tau: outerTau, alpha, beta }),
    steps,
  });
  const { history } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const shards = SHARDS_2D.slice(0, n);
  const adam = reference(n, 2);
  let X = repeat(n, X0_2D);
  let anchor: Vec = [...X0_2D];
  let u: Vec = [0, 0];
  for (let k = 0; k < steps; k++) {
    const D = adamwDirections(adam, gradients(shards, X), X);
    X = X.map((x, i) => axpy(x, -LR, D[i]!));
    if ((k + 1) % outerTau === 0) {
      u = axpy(anchor, -1, meanRow(X)).map((value, c) => beta * u[c]! + value / LR);
      anchor = axpy(anchor, -alpha * LR, u);
      X = repeat(n, anchor);
    } else if ((k + 1) % tau === 0) {
      X = repeat(n, meanRow(X));
    }
    assertRowsClose(history[k]!, X, 1e-5, `step ${k}`);
  }
});

Deno.test("allReduce + top-k + adamw: the compressor gets the bare gradient, the decay comes after", async () => {
  // Two workers at x0 = (1, 1) with f_i = ‖x − (1, 1)‖²/4 add nothing to the gradient: every
  // step's gradient is the gradient of the model's distance to (1, 1). Step 0's gradients are
  // zero, so top-1 sends zeros and keeps zero residuals; with a coupled decay, both would carry
  // wd · x = (0.2, 0.2). The model moves by the decay alone: x = (1 − γ wd)(1, 1).
  const shards = [0, 1].map(() => ({ A: [[1, 0], [0, 1]], b: [1, 1] }));
  const plan = makePlan({
    workers: 2,
    optimizer: adamw({ lr: LR, weightDecay: WD }),
    base: allReduce(),
    compress: topK({ k: 1 }),
    steps: 1,
  });
  const { history, chains } = await runWorkers(plan, shards, [1, 1]);
  assertRowsClose(history[0]!, repeat(2, [1 - LR * WD, 1 - LR * WD]), 1e-7);
  for (const chain of chains) {
    assert.deepEqual([...bufferOf(chain, "topK.residual")], [0, 0]);
    assert.deepEqual([...bufferOf(chain, "adamw.m"), ...bufferOf(chain, "adamw.v")], [0, 0, 0, 0]);
  }
});

Deno.test("allReduce + top-k + adamw follows the reference: error feedback on bare gradients", async () => {
  const [n, steps, k] = [4, 6, 1];
  const plan = makePlan({
    workers: n,
    optimizer: adamw({ lr: LR, weightDecay: WD }),
    base: allReduce(),
    compress: topK({ k }),
    steps,
    dim: 3,
  });
  const { history, chains } = await runWorkers(plan, SHARDS_3D, X0_3D);
  const adam = reference(1, 3);
  let x: Vec = [...X0_3D];
  const residuals = repeat(n, [0, 0, 0]);
  for (let step = 0; step < steps; step++) {
    // Top-1 with error feedback of each worker's own gradient (no decay), the mean of the sent.
    const sent = gradients(SHARDS_3D, repeat(n, x)).map((g, i) => {
      const e = residuals[i]!.map((value, j) => value + g[j]!);
      const top = e.reduce((best, value, j) => Math.abs(value) > Math.abs(e[best]!) ? j : best, 0);
      const out = e.map((value, j) => j === top ? value : 0);
      residuals[i] = e.map((value, j) => j === top ? 0 : value);
      return out;
    });
    x = axpy(x, -LR, adamwDirections(adam, [meanRow(sent)], [x])[0]!);
    assertRowsClose(history[step]!, repeat(n, x), 1e-5, `step ${step}`);
  }
  chains.forEach((chain, i) =>
    assertClose(bufferOf(chain, "topK.residual"), residuals[i]!, 1e-5, `residual ${i}`)
  );
});

Deno.test("adamw under warm-up then cosine: γ_k composes, and scales the decay", async () => {
  // warmup({ steps: 2, then: cosine({ lr: 1, minLr: 0.1, steps: 4 }) }) over 6 steps:
  // cosine(k) = 0.1 + 0.9 (1 + cos(πk/4))/2 for k < 4, then 0.1; the warm-up multiplies the
  // first two steps by (k + 1)/2 (it ramps the schedule up; it does not shift it).
  const c = (1 + Math.SQRT1_2) / 2; // (1 + cos(π/4))/2
  const expected = [
    1 * 1 / 2,
    (0.1 + 0.9 * c) * 2 / 2,
    0.1 + 0.9 * 0.5,
    0.1 + 0.9 * (1 - c),
    0.1,
    0.1,
  ];
  assertClose(expected, [0.5, 0.8681980515339464, 0.55, 0.23180194846605365, 0.1, 0.1], 1e-15);
  const plan = makePlan({
    workers: 1,
    optimizer: adamw({
      lr: warmup({ steps: 2, then: cosine({ lr: 1, minLr: 0.1, steps: 4 }) }),
      weightDecay: 0.5,
    }),
    base: allReduce(),
    steps: 6,
  });
  // A zero gradient: Adam's part is 0, the model moves by the decay alone, x ← (1 − γ_k wd) x.
  const [comm] = createMemoryCommunicators(1);
  const chain = createTrainingChain({
    plan,
    comm: comm!,
    x0: Float32Array.of(4, -2),
    gradient: (x) => Promise.resolve({ loss: 0, grad: new Float32Array(x.length) }),
  });
  const lrs: number[] = [];
  let x: Vec = [4, -2];
  for (let k = 0; k < 6; k++) {
    lrs.push((await chain.step(k)).lr);
    x = x.map((value) => value * (1 - expected[k]! * 0.5));
    assertClose(chain.model(), x, 1e-6, `step ${k}`);
  }
  assertClose(lrs, expected, 1e-15);
  // Π (1 − 0.5 γ_k) = 0.75 · 0.5659 · 0.725 · 0.8841 · 0.95 · 0.95 = 0.245521.
  assertClose(x, [0.9820821679687498, -0.4910410839843749], 1e-12);
});
