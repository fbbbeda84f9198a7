/**
 * The bases under compression (docs/algorithms.md §3): all-reduce SGD on compressed gradients
 * and local SGD on compressed model differences, with top-k and error feedback, against
 * references written here step by step; weight decay through every compressor family. The
 * references store every vector in float32 (`Math.fround`) where the runtime does, so they follow
 * the same top-k choices.
 */

import assert from "node:assert/strict";
import { allReduce, localSgd } from "../../dsl/bases/mod.ts";
import { dqSgd, qsgd, sketchedSgd, topK } from "../../dsl/compressors/mod.ts";
import { adam, sgd } from "../../dsl/optimizers/mod.ts";
import { slowMo } from "../../dsl/outers/mod.ts";
import { randomStream } from "../random.ts";
import {
  AdamReference,
  assertClose,
  assertRowsClose,
  bufferOf,
  gradients,
  lsGradient,
  makePlan,
  type Mat,
  repeat,
  runWorkers,
  type Shard,
  SHARDS_3D,
  type Vec,
  X0_3D,
} from "./_testing.ts";

/** The `k` indices of largest |v|, lower index first among ties, by a full sort. */
function topIndices(v: Vec, k: number): number[] {
  return [...v.keys()].sort((a, b) => Math.abs(v[b]!) - Math.abs(v[a]!) || a - b).slice(0, k);
}

/**
 * One exchange with top-k and error feedback for every worker: `e_i += p_i` (float32), send the
 * top-k of `e_i`, zero them in `e_i`; returns the float32 mean of what was sent.
 */
function exchange(residuals: Mat, payloads: Mat, k: number): Vec {
  const n = residuals.length;
  const sum = payloads[0]!.map(() => 0);
  residuals.forEach((e, i) => {
    e.forEach((value, j) => e[j] = Math.fround(value + Math.fround(payloads[i]![j]!)));
    for (const j of topIndices(e, k)) {
      sum[j]! += e[j]!;
      e[j] = 0;
    }
  });
  return sum.map((value) => Math.fround(value / n));
}

Deno.test("allReduce with top-k and error feedback follows the reference", async () => {
  const n = 4;
  const lr = 0.1;
  const steps = 6;
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr }),
    base: allReduce(),
    compress: topK({ k: 1 }),
    steps,
    dim: 3,
  });
  const { history, chains, comms, metrics } = await runWorkers(plan, SHARDS_3D, X0_3D);
  let x: Vec = [...X0_3D];
  const residuals = repeat(n, [0, 0, 0]);
  for (let k = 0; k < steps; k++) {
    const mean = exchange(residuals, gradients(SHARDS_3D, repeat(n, x)), 1);
    x = x.map((value, j) => Math.fround(value - lr * mean[j]!));
    assertRowsClose(history[k]!, repeat(n, x), 1e-6, `step ${k}`);
    for (const model of history[k]!) assert.deepEqual(model, history[k]![0], "bit-identical");
  }
  // Every worker's residual holds what it has not sent yet, and its norm is in the metrics.
  chains.forEach((chain, i) => {
    assertRowsClose([bufferOf(chain, "topK.residual")], [residuals[i]!], 1e-6, "residual");
    assert.ok(
      Math.abs((metrics[i]!.at(-1)!.residualNorm as number) - Math.hypot(...residuals[i]!)) < 1e-6,
    );
  });
  // One packed code per step to each of the 3 others: 4 bytes of value, 1 byte for a 2-bit
  // index, a 12-byte frame header; nothing uncompressed.
  for (const comm of comms) {
    assert.equal(comm.stats().sent.compressed, steps * 3 * (4 + 1 + 12));
    assert.equal(comm.stats().sent.base, 0);
  }
});

Deno.test("localSgd with top-k compresses the model differences since the last average", async () => {
  const n = 4;
  const lr = 0.1;
  const tau = 2;
  const steps = 6;
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr }),
    base: localSgd({ tau }),
    compress: topK({ k: 2 }),
    steps,
    dim: 3,
  });
  const { history, comms } = await runWorkers(plan, SHARDS_3D, X0_3D);
  let X = repeat(n, X0_3D);
  let synced: Vec = [...X0_3D];
  const residuals = repeat(n, [0, 0, 0]);
  for (let k = 0; k < steps; k++) {
    const G = gradients(SHARDS_3D, X);
    X = X.map((x, i) => x.map((value, j) => Math.fround(value - lr * Math.fround(G[i]![j]!))));
    if ((k + 1) % tau === 0) {
      const differences = X.map((x) => x.map((value, j) => Math.fround(value - synced[j]!)));
      const mean = exchange(residuals, differences, 2);
      synced = synced.map((value, j) => Math.fround(value + mean[j]!));
      X = repeat(n, synced);
      for (const model of history[k]!) assert.deepEqual(model, history[k]![0], "agree after");
    }
    assertRowsClose(history[k]!, X, 1e-6, `step ${k}`);
  }
  assert.notDeepEqual(history[0]![0], history[0]![1], "workers differ between averages");
  // Three exchanges of 2 values and two 2-bit indices (9 bytes + a 12-byte header) to 3 peers.
  for (const comm of comms) assert.equal(comm.stats().sent.compressed, 3 * 3 * (8 + 1 + 12));
});

Deno.test("localSgd with a compressor skips its exchange where the outer step averages", async () => {
  const plan = makePlan({
    workers: 4,
    optimizer: sgd({ lr: 0.1 }),
    base: localSgd({ tau: 2 }),
    compress: topK({ k: 1 }),
    outer: slowMo({ tau: 4, beta: 0 }),
    steps: 8,
    dim: 3,
  });
  const { comms, history } = await runWorkers(plan, SHARDS_3D, X0_3D);
  // Local exchanges after steps 1 and 5 only; exact outer averages after steps 3 and 7.
  for (const comm of comms) {
    assert.equal(comm.stats().sent.compressed, 2 * 3 * (4 + 1 + 12));
    assert.ok(comm.stats().sent.outer > 0);
  }
  for (const k of [1, 3, 5, 7]) {
    for (const model of history[k]!) assert.deepEqual(model, history[k]![0], `agree at ${k}`);
  }
});

// Weight decay under compression (docs/algorithms.md §0): the decay is part of `g_i`,
// `g_i = ∇f_i(x_i) + wd · x_i`, before anything else, so it goes through the compressor's error
// feedback, codec and momentum, and the optimizer does not add it again. The hand-worked steps
// start at the minimum of the loss (`A = I`, `b = x_0`), where the loss gradient is 0 and
// everything a worker sends is decay: `wd · x_0 = (0.5, 0.5)`.

/** Two workers at the minimum of their loss: `f_i(x) = ‖x − (1, 1)‖²/4`, gradient `(x − 1)/2`. */
const AT_MINIMUM: Shard[] = [0, 1].map(() => ({ A: [[1, 0], [0, 1]], b: [1, 1] }));
const ONES = [1, 1];

/** `fround(g + wd · x)`, the decayed gradient as the runtime stores it (float32). */
function decayed(g: Vec, wd: number, x: Vec): Vec {
  return g.map((value, j) => Math.fround(Math.fround(value) + wd * x[j]!));
}

Deno.test("weight decay goes through top-k's error feedback, by hand", async () => {
  const plan = makePlan({
    workers: 2,
    optimizer: sgd({ lr: 0.1, weightDecay: 0.5 }),
    base: allReduce(),
    compress: topK({ k: 1 }),
    steps: 2,
    dim: 2,
  });
  const { history, chains } = await runWorkers(plan, AT_MINIMUM, ONES);
  // Step 0: e = 0 + (0.5, 0.5); top-1 sends (0.5, 0) (a tie: the lower index) and keeps
  // (0, 0.5); the mean (0.5, 0) moves x to (1 − 0.1·0.5, 1) = (0.95, 1). (With the decay added
  // after the mean, both coordinates would decay: (0.95, 0.95).)
  assertRowsClose(history[0]!, [[0.95, 1], [0.95, 1]], 1e-7, "step 0");
  // Step 1: g = ((0.95 − 1)/2, 0) = (−0.025, 0), plus 0.5·(0.95, 1): (0.45, 0.5); e = (0.45, 1);
  // top-1 sends (0, 1) and keeps (0.45, 0); x = (0.95, 1 − 0.1) = (0.95, 0.9).
  assertRowsClose(history[1]!, [[0.95, 0.9], [0.95, 0.9]], 1e-7, "step 1");
  for (const chain of chains) assertClose(bufferOf(chain, "topK.residual"), [0.45, 0], 1e-7);
});

for (
  const optimizer of [sgd({ lr: 0.05, weightDecay: 0.3 }), adam({ lr: 0.05, weightDecay: 0.3 })]
) {
  Deno.test(`allReduce with top-k and ${optimizer.kind} with weight decay follows the reference`, async () => {
    const n = 4;
    const steps = 6;
    const wd = 0.3;
    const plan = makePlan({
      workers: n,
      optimizer,
      base: allReduce(),
      compress: topK({ k: 1 }),
      steps,
      dim: 3,
    });
    const { history, chains } = await runWorkers(plan, SHARDS_3D, X0_3D);
    const adamReference = new AdamReference(1, 3, {
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      biasCorrection: true,
      amsgrad: false,
    });
    let x: Vec = [...X0_3D];
    const residuals = repeat(n, [0, 0, 0]);
    for (let k = 0; k < steps; k++) {
      const payloads = gradients(SHARDS_3D, repeat(n, x)).map((g) => decayed(g, wd, x));
      const mean = exchange(residuals, payloads, 1);
      // The decay is in the mean already: the optimizer's direction of the mean, nothing added.
      const direction = optimizer.kind === "sgd" ? mean : adamReference.direction(0, mean);
      x = x.map((value, j) => Math.fround(value - 0.05 * direction[j]!));
      assertRowsClose(history[k]!, repeat(n, x), 1e-5, `step ${k}`);
    }
    chains.forEach((chain, i) =>
      assertRowsClose([bufferOf(chain, "topK.residual")], [residuals[i]!], 1e-6, "residual")
    );
  });
}

/**
 * QSGD of a vector of one bucket at `s` levels, from the worker's stream of the step
 * (docs/algorithms.md §3.1): norm `fround(‖v‖₂)`, level `min(s, ⌊s|v_j|/norm + u_j⌋)` with `u_j`
 * the stream's 32-bit draws over 2³², decoded `norm · sign(v_j) · level/s`.
 */
function quantized(v: Vec, s: number, seed: number, rank: number, step: number): Vec {
  const norm = Math.fround(Math.hypot(...v));
  if (norm === 0) return v.map(() => 0);
  const draws = randomStream(seed, "compress", rank, step).fillUint32(new Uint32Array(v.length));
  return v.map((value, j) => {
    const level = Math.min(s, Math.floor(s * Math.abs(value) / norm + draws[j]! / 2 ** 32));
    return norm * Math.sign(value) * level / s;
  });
}

for (const compress of [qsgd({ bits: 4 }), dqSgd()]) {
  Deno.test(`weight decay goes through ${compress.kind}'s codec`, async () => {
    // By hand at the minimum: each worker quantizes (0.5, 0.5), norm 0.70711, at s levels, so a
    // coordinate of the mean is 0.70711·(l_0 + l_1)/(2s) for levels l_i ∈ {⌊0.70711 s⌋,
    // ⌈0.70711 s⌉}: 0.471, 0.495 or 0.519 for QSGD's s = 15, 0.404, 0.455 or 0.505 for DQ-SGD's
    // first width, 3 bits (s = 7), never the 0.5 of the decay added after the mean (x = 0.95).
    const steps = 3;
    const plan = makePlan({
      workers: 2,
      optimizer: sgd({ lr: 0.1, weightDecay: 0.5 }),
      base: allReduce(),
      compress,
      steps,
      dim: 2,
    });
    const { history, metrics } = await runWorkers(plan, AT_MINIMUM, ONES);
    const bits = (k: number) => compress.kind === "qsgd" ? 4 : metrics[0]![k]!.bits as number;
    // DQ-SGD's first of 3 widths: r = 2, E = 3, A = 4, h = 2·2/3: round(2.67) = 3.
    if (compress.kind === "dqSgd") assert.equal(bits(0), 3);
    const s = 2 ** bits(0) - 1;
    const norm = Math.fround(Math.SQRT1_2);
    const lattice = [0, 1, 2].map((l) =>
      Math.fround(1 - 0.1 * Math.fround((2 * Math.floor(norm * s) + l) * norm / (2 * s)))
    );
    for (const value of history[0]![0]!) {
      assert.ok(lattice.some((point) => Math.abs(value - point) < 1e-6), `${value} ∉ ${lattice}`);
      // 0.95 (the decay added after the mean) is off the lattice by 5e-4 or more.
      assert.ok(Math.abs(value - 0.95) > 1e-4, `${value}: the decay went around the codec`);
    }
    // Step by step against the reference, with the draws of each worker's stream.
    let x: Vec = [...ONES];
    for (let k = 0; k < steps; k++) {
      const levels = 2 ** bits(k) - 1;
      const sum = [0, 0];
      AT_MINIMUM.forEach((shard, rank) => {
        const payload = decayed(lsGradient(shard, x).grad, 0.5, x);
        quantized(payload, levels, plan.seed, rank, k).forEach((value, j) => sum[j]! += value);
      });
      x = x.map((value, j) => Math.fround(value - 0.1 * Math.fround(sum[j]! / 2)));
      assertRowsClose(history[k]!, repeat(2, x), 1e-6, `step ${k}`);
    }
  });
}

Deno.test("weight decay goes into Sketched SGD's momentum, by hand", async () => {
  // A collision-free sketch (cols = d): the estimates are the exact sums.
  const plan = makePlan({
    workers: 2,
    optimizer: sgd({ lr: 0.1, weightDecay: 0.5 }),
    base: allReduce(),
    compress: sketchedSgd({ k: 1, rows: 3, cols: 2, rho: 0.9 }),
    steps: 2,
    dim: 2,
  });
  const { history, chains } = await runWorkers(plan, AT_MINIMUM, ONES);
  // Step 0: u = 0.9·0 + (0.5, 0.5); v = u; the summed estimates (1, 1); top-1 takes index 0
  // and the mean 1/2: x = (1 − 0.1·0.5, 1) = (0.95, 1); u and v lose index 0: (0, 0.5).
  assertRowsClose(history[0]!, [[0.95, 1], [0.95, 1]], 1e-7, "step 0");
  // Step 1: g = (−0.025, 0) + 0.5·(0.95, 1) = (0.45, 0.5); u = (0.45, 0.9·0.5 + 0.5) =
  // (0.45, 0.95); v = (0.45, 0.5 + 0.95) = (0.45, 1.45); sums (0.9, 2.9): top-1 is index 1, mean
  // 1.45: x = (0.95, 1 − 0.145) = (0.95, 0.855); u = (0.45, 0), v = (0.45, 0).
  assertRowsClose(history[1]!, [[0.95, 0.855], [0.95, 0.855]], 1e-6, "step 1");
  for (const chain of chains) {
    assertClose(bufferOf(chain, "sketchedSgd.momentum"), [0.45, 0], 1e-6, "u");
    assertClose(bufferOf(chain, "sketchedSgd.error"), [0.45, 0], 1e-6, "v");
  }
});

Deno.test("localSgd with top-k: the decay is in the local steps, so in the differences", async () => {
  // localSgd compresses model differences; the decay acts in each local optimizer step (coupled,
  // on the worker's own model), so the difference each worker sends already holds it, once.
  const n = 4;
  const lr = 0.1;
  const wd = 0.3;
  const tau = 2;
  const steps = 6;
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr, weightDecay: wd }),
    base: localSgd({ tau }),
    compress: topK({ k: 2 }),
    steps,
    dim: 3,
  });
  const { history } = await runWorkers(plan, SHARDS_3D, X0_3D);
  let X = repeat(n, X0_3D);
  let synced: Vec = [...X0_3D];
  const residuals = repeat(n, [0, 0, 0]);
  for (let k = 0; k < steps; k++) {
    const G = gradients(SHARDS_3D, X).map((g, i) => decayed(g, wd, X[i]!));
    X = X.map((x, i) => x.map((value, j) => Math.fround(value - lr * G[i]![j]!)));
    if ((k + 1) % tau === 0) {
      const differences = X.map((x) => x.map((value, j) => Math.fround(value - synced[j]!)));
      const mean = exchange(residuals, differences, 2);
      synced = synced.map((value, j) => Math.fround(value + mean[j]!));
      X = repeat(n, synced);
    }
    assertRowsClose(history[k]!, X, 1e-6, `step ${k}`);
  }
});
