import assert from "node:assert/strict";
import { adam, adamw, sgd } from "../../dsl/optimizers/mod.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import {
  adamDirection,
  adamwDirection,
  applyBufferPolicy,
  clipByNorm,
  createOptimizer,
  sgdDirection,
} from "./optimizers.ts";
import { assertClose } from "./_testing.ts";

const f32 = (...values: number[]) => Float32Array.from(values);

Deno.test("sgd without momentum: the direction is the gradient", () => {
  const opt = createOptimizer(sgd({ lr: 0.1 }), 2);
  assertClose(opt.direction(f32(1, -2), f32(5, 5)), [1, -2], 1e-7);
  assert.deepEqual(opt.buffers(), []);
});

Deno.test("sgd weight decay is coupled: g + wd · x", () => {
  const opt = createOptimizer(sgd({ lr: 0.1, weightDecay: 0.1 }), 2);
  assertClose(opt.direction(f32(1, -2), f32(1, 2)), [1.1, -1.8], 1e-7);
});

Deno.test("a gradient that already carries the decay gets it once", () => {
  // decay: g + wd · x in place, in float32; direction(…, true) then adds nothing.
  for (
    const node of [
      sgd({ lr: 0.1, momentum: 0.5, weightDecay: 0.1 }),
      adam({ lr: 0.1, weightDecay: 0.1 }),
    ]
  ) {
    const once = createOptimizer(node, 2);
    const twice = createOptimizer(node, 2);
    const grad = f32(1, -2);
    const decayed = once.decay(grad, f32(1, 2));
    assert.equal(decayed, grad, "in place");
    assert.deepEqual([...decayed], [Math.fround(1.1), Math.fround(-1.8)]);
    const plain = createOptimizer(
      node.kind === "sgd" ? sgd({ lr: 0.1, momentum: 0.5 }) : adam({ lr: 0.1 }),
      2,
    );
    assert.deepEqual(
      [...once.direction(decayed, f32(1, 2), true)],
      [...plain.direction(f32(1.1, -1.8), f32(1, 2))],
    );
    // Without the flag the decay is added again (SGD: 1.1 + 0.1 · 1).
    if (node.kind === "sgd") {
      assertClose(twice.direction(f32(1.1, -1.8), f32(1, 2)), [1.2, -1.6], 1e-6);
    }
  }
  // Without decay, nothing changes.
  const none = createOptimizer(sgd({ lr: 0.1 }), 2);
  assert.deepEqual([...none.decay(f32(1, -2), f32(3, 4))], [1, -2]);
});

Deno.test("sgd heavy-ball momentum, PyTorch convention", () => {
  const opt = createOptimizer(sgd({ lr: 0.1, momentum: 0.9 }), 2);
  const x = f32(0, 0);
  // v1 = g1
  assertClose(opt.direction(f32(1, -2), x), [1, -2], 1e-7);
  // v2 = 0.9 [1, -2] + [0.5, 1]
  assertClose(opt.direction(f32(0.5, 1), x), [1.4, -0.8], 1e-7);
  assertClose(opt.buffers()[0]!.data, [1.4, -0.8], 1e-7);
});

Deno.test("sgd nesterov: g + μ v", () => {
  const opt = createOptimizer(sgd({ lr: 0.1, momentum: 0.9, nesterov: true }), 2);
  const x = f32(0, 0);
  // v1 = [1, -2]; dir = g1 + 0.9 v1
  assertClose(opt.direction(f32(1, -2), x), [1.9, -3.8], 1e-7);
  // v2 = [1.4, -0.8]; dir = [0.5, 1] + 0.9 v2
  assertClose(opt.direction(f32(0.5, 1), x), [1.76, 0.28], 1e-7);
});

Deno.test("sgd momentum with weight decay accumulates the decayed gradient", () => {
  const opt = createOptimizer(sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.1 }), 2);
  const x = f32(1, 2);
  assertClose(opt.direction(f32(1, -2), x), [1.1, -1.8], 1e-7);
  // 0.9 [1.1, -1.8] + [0.6, 1.2]
  assertClose(opt.direction(f32(0.5, 1), x), [1.59, -0.42], 1e-6);
});

Deno.test("sgd reset zeroes the velocity", () => {
  const opt = createOptimizer(sgd({ lr: 0.1, momentum: 0.9 }), 1);
  opt.direction(f32(3), f32(0));
  opt.resetMomentum();
  assert.deepEqual([...opt.buffers()[0]!.data], [0]);
  assertClose(opt.direction(f32(1), f32(0)), [1], 1e-7);
});

Deno.test("sgdDirection is pure: the velocity passed in is not modified", () => {
  const velocity = f32(1);
  const result = sgdDirection(
    { momentum: 0.5, nesterov: false, weightDecay: 0 },
    velocity,
    f32(1),
    f32(0),
  );
  assert.deepEqual([...velocity], [1]);
  assert.deepEqual([...result.velocity!], [1.5]);
});

Deno.test("adam with bias correction, two steps", () => {
  const opt = createOptimizer(adam({ lr: 0.01 }), 2);
  const x = f32(0, 0);
  // m = [0.2, -0.05], v = [0.004, 0.00025]; m̃ = g, ṽ = g²: dir = g / (|g| + 1e-8)
  assertClose(opt.direction(f32(2, -0.5), x), [2 / (2 + 1e-8), -0.5 / (0.5 + 1e-8)], 1e-6);
  // m = [0.08, 0.005], v = [0.004996, 0.00049975], c1 = 0.19, c2 = 1 − 0.999²
  assertClose(opt.direction(f32(-1, 0.5), x), [0.2663370379756846, 0.052631577894736506], 1e-6);
  const [m, v, count] = opt.buffers();
  assertClose(m!.data, [0.08, 0.005], 1e-6);
  assertClose(v!.data, [0.004996, 0.00049975], 1e-6);
  assert.deepEqual(
    opt.buffers().map((buffer) => [buffer.name, buffer.momentum]),
    [["adam.m", true], ["adam.v", true], ["adam.count", false]],
  );
  assert.deepEqual([...count!.data], [2]);
});

Deno.test("adam without bias correction", () => {
  const opt = createOptimizer(adam({ lr: 0.01, biasCorrection: false }), 2);
  // 0.2 / (sqrt(0.004) + 1e-8), −0.05 / (sqrt(0.00025) + 1e-8)
  assertClose(
    opt.direction(f32(2, -0.5), f32(0, 0)),
    [3.162277160168459, -3.1622756601696445],
    1e-6,
  );
});

Deno.test("adam bias correction uses the count of its own directions, plus one", () => {
  const opt = createOptimizer(adam({ lr: 0.01 }), 1);
  // Four zero gradients leave the moments at zero but count four directions.
  for (let i = 0; i < 4; i++) assertClose(opt.direction(f32(0), f32(0)), [0], 1e-12);
  // (0.2 / (1 − 0.9⁵)) / (sqrt(0.004 / (1 − 0.999⁵)) + 1e-8)
  assertClose(opt.direction(f32(2), f32(0)), [0.5454892438783352], 1e-6);
});

Deno.test("adam reset restarts the bias-correction count", () => {
  const opt = createOptimizer(adam({ lr: 0.01 }), 1);
  for (let i = 0; i < 5; i++) opt.direction(f32(1), f32(0));
  opt.resetMomentum();
  // As on the very first step: m̃ = g, ṽ = g², dir = g / (|g| + eps). Had the count been kept
  // at 5, m̃ = 0.2/(1 − 0.9⁶) and ṽ = 0.004/(1 − 0.999⁶): the direction would be 0.5047.
  assertClose(opt.direction(f32(2), f32(0)), [2 / (2 + 1e-8)], 1e-6);
  assert.deepEqual([...opt.buffers().at(-1)!.data], [1]);
});

Deno.test("amsgrad divides by the running maximum of v", () => {
  const settings = { lr: 0.01, beta1: 0.5, beta2: 0.5, eps: 0, biasCorrection: false };
  const ams = createOptimizer(adam({ ...settings, amsgrad: true }), 1);
  const plain = createOptimizer(adam(settings), 1);
  // m1 = 1, v1 = 2: 1/√2
  assertClose(ams.direction(f32(2), f32(0)), [Math.SQRT1_2], 1e-6);
  assertClose(plain.direction(f32(2), f32(0)), [Math.SQRT1_2], 1e-6);
  // m2 = 0.55, v2 = 1.005 < v̂ = 2
  assertClose(ams.direction(f32(0.1), f32(0)), [0.38890872965260115], 1e-6);
  assertClose(plain.direction(f32(0.1), f32(0)), [0.5486301348591981], 1e-6);
  assert.equal(ams.buffers().filter((buffer) => buffer.momentum).length, 3);
  assertClose(ams.buffers()[2]!.data, [2], 0);
});

Deno.test("adam weight decay is added to the gradient", () => {
  const opt = createOptimizer(adam({ lr: 0.01, biasCorrection: false, weightDecay: 0.5 }), 1);
  // g = 0 + 0.5 · 2 = 1: 0.1 / (sqrt(0.001) + 1e-8)
  assertClose(opt.direction(f32(0), f32(2)), [0.1 / (Math.sqrt(0.001) + 1e-8)], 1e-6);
});

Deno.test("adam reset zeroes every moment", () => {
  const opt = createOptimizer(adam({ lr: 0.01, amsgrad: true }), 2);
  opt.direction(f32(1, 2), f32(0, 0));
  opt.resetMomentum();
  for (const buffer of opt.buffers().filter((buffer) => buffer.momentum)) {
    assert.deepEqual([...buffer.data], [0, 0], buffer.name);
  }
});

Deno.test("adamDirection is pure and checks lengths", () => {
  const settings = {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    biasCorrection: true,
    amsgrad: false,
    weightDecay: 0,
  };
  const moments = { m: f32(0), v: f32(0), vMax: null };
  adamDirection(settings, moments, f32(1), f32(0), 0);
  assert.deepEqual([...moments.m], [0]);
  assert.throws(() => adamDirection(settings, moments, f32(1, 2), f32(0), 0), /Length mismatch/);
  assert.throws(
    () => adamDirection({ ...settings, amsgrad: true }, moments, f32(1), f32(0), 0),
    /amsgrad/,
  );
});

Deno.test("createOptimizer refuses a non-positive parameter count", () => {
  assert.throws(() => createOptimizer(sgd({ lr: 0.1 }), 0), RangeError);
  assert.throws(() => createOptimizer(sgd({ lr: 0.1 }), 1.5), /"1.5" is not a positive integer/);
});

Deno.test("buffer policy keep leaves buffers, reset zeroes them", async () => {
  const [comm] = createMemoryCommunicators(1);
  const opt = createOptimizer(sgd({ lr: 0.1, momentum: 0.9 }), 2);
  opt.direction(f32(1, 2), f32(0, 0));
  await applyBufferPolicy("keep", [opt], comm!, "base");
  assert.deepEqual([...opt.buffers()[0]!.data], [1, 2]);
  await applyBufferPolicy("reset", [opt], comm!, "base");
  assert.deepEqual([...opt.buffers()[0]!.data], [0, 0]);
  assert.equal(comm!.stats().sent.base, 0);
});

Deno.test("buffer policy average replaces each buffer by its mean over workers", async () => {
  const comms = createMemoryCommunicators(3);
  const optimizers = comms.map(() => createOptimizer(adam({ lr: 0.1, amsgrad: true }), 2));
  optimizers.forEach((opt, rank) => opt.direction(f32(rank, -2 * rank), f32(0, 0)));
  const before = optimizers.map((opt) => opt.buffers().map((b) => [...b.data]));
  await Promise.all(
    comms.map((comm, rank) => applyBufferPolicy("average", [optimizers[rank]!], comm, "outer")),
  );
  // m, v and v̂ are averaged; the direction count (equal on every worker) is left as it is.
  for (let b = 0; b < 3; b++) {
    const mean = [0, 1].map((c) => before.reduce((s, buffers) => s + buffers[b]![c]!, 0) / 3);
    for (const opt of optimizers) assertClose(opt.buffers()[b]!.data, mean, 1e-6, `buffer ${b}`);
  }
  for (const opt of optimizers) assert.deepEqual([...opt.buffers()[3]!.data], [1]);
  for (const comm of comms) assert.ok(comm.stats().sent.outer > 0);
  assert.equal(comms[0]!.stats().sent.base, 0);
});

// ---------------------------------------------------------------------------------------------
// AdamW (docs/algorithms.md §0.1): Adam's direction plus the decoupled decay `wd · x`

/** Gradients of several steps in 3 dimensions, signs and sizes varied. */
const GRADIENTS = [
  f32(0.5, -1, 2),
  f32(-0.5, 0.25, 1),
  f32(3, 0, -0.125),
  f32(-2, 1e-3, 0.75),
  f32(0.25, -4, 0),
];

Deno.test("adamw with weightDecay 0 is adam with the same betas, bit for bit", () => {
  for (const beta2 of [0.95, 0.999]) {
    const plain = createOptimizer(adam({ lr: 0.01, beta2 }), 3);
    const decoupled = createOptimizer(adamw({ lr: 0.01, beta2, weightDecay: 0 }), 3);
    const x = f32(1, -2, 0.5);
    for (const [k, g] of GRADIENTS.entries()) {
      const expected = plain.direction(g, x);
      assert.deepEqual(decoupled.direction(g, x), expected, `beta2 ${beta2}, step ${k}`);
      // The move the base makes with it, too.
      for (let t = 0; t < 3; t++) x[t] = x[t]! - 0.01 * expected[t]!;
    }
    assert.deepEqual(
      decoupled.buffers().map((buffer) => [...buffer.data]),
      plain.buffers().map((buffer) => [...buffer.data]),
    );
  }
});

Deno.test("adamw: one and two steps on a 3-vector, by hand", () => {
  // β1 = 0.9, β2 = 0.95, eps = 1e-8, wd = 0.1, γ = 0.01, x0 = (1, −2, 0.5).
  const [lr, wd, eps] = [0.01, 0.1, 1e-8];
  const opt = createOptimizer(adamw({ lr, weightDecay: wd }), 3);
  const move = (x: Float32Array, dir: Float32Array) => x.map((value, t) => value - lr * dir[t]!);
  const x0 = f32(1, -2, 0.5);
  const [g1, g2] = [GRADIENTS[0]!, GRADIENTS[1]!];
  // Step 1: m = 0.1 g1, v = 0.05 g1², so m̃ = g1 and ṽ = g1²: dir = g1 / (|g1| + eps) + wd x0.
  const x1 = move(x0, opt.direction(g1, x0));
  const step1 = [0, 1, 2].map((t) => g1[t]! / (Math.abs(g1[t]!) + eps) + wd * x0[t]!);
  assertClose(x1, [0, 1, 2].map((t) => x0[t]! - lr * step1[t]!), 1e-7);
  assertClose(x1, [0.989, -1.988, 0.4895], 1e-7); // x0 − 0.01 (±1 + 0.1 x0)
  // Step 2: m = 0.9·0.1 g1 + 0.1 g2 = (−0.005, −0.065, 0.28);
  // v = 0.95·0.05 g1² + 0.05 g2² = (0.024375, 0.050625, 0.24); c1 = 1 − 0.9², c2 = 1 − 0.95².
  const x2 = move(x1, opt.direction(g2, x1));
  const [m, v] = [[-0.005, -0.065, 0.28], [0.024375, 0.050625, 0.24]];
  const [c1, c2] = [1 - 0.9 ** 2, 1 - 0.95 ** 2];
  const step2 = [0, 1, 2].map((t) => (m[t]! / c1) / (Math.sqrt(v[t]! / c2) + eps) + wd * x1[t]!);
  assertClose(x2, [0, 1, 2].map((t) => x1[t]! - lr * step2[t]!), 1e-7);
  // Adam's part of the second direction: (−0.0526316, −0.4747659, 0.9392931).
  assertClose(x2, [0.9885373159787474, -1.981264340868759, 0.4796175694268843], 1e-6);
  const [mBuffer, vBuffer, count] = opt.buffers();
  assertClose(mBuffer!.data, m, 1e-7);
  assertClose(vBuffer!.data, v, 1e-7);
  assert.deepEqual([...count!.data], [2]);
  assert.deepEqual(
    opt.buffers().map((buffer) => [buffer.name, buffer.momentum]),
    [["adamw.m", true], ["adamw.v", true], ["adamw.count", false]],
  );
});

Deno.test("adamw: the decay never enters m or v; with g = 0 the model shrinks by 1 − γ wd", () => {
  const [lr, wd] = [0.05, 0.4];
  const opt = createOptimizer(adamw({ lr, weightDecay: wd }), 2);
  let x = f32(2, -3);
  for (let k = 0; k < 4; k++) {
    const dir = opt.direction(f32(0, 0), x);
    // dir = 0 / (0 + eps) + wd · x, rounded to float32 once; the move as the bases make it.
    assert.deepEqual([...dir], [...x].map((value) => Math.fround(wd * value)), `step ${k}`);
    x = x.map((value, t) => value - lr * dir[t]!);
    for (const buffer of opt.buffers().slice(0, 2)) assert.deepEqual([...buffer.data], [0, 0]);
  }
  assertClose(x, [2, -3].map((value) => value * (1 - lr * wd) ** 4), 1e-6);
  // The four zero gradients were counted: the fifth direction is bias-corrected with t = 5.
  const m = 0.1 * 2;
  const v = 0.05 * 4;
  const expected = (m / (1 - 0.9 ** 5)) / (Math.sqrt(v / (1 - 0.95 ** 5)) + 1e-8);
  assertClose(opt.direction(f32(2, 0), f32(0, 0)), [expected, 0], 1e-6);
});

Deno.test("adamw's decay is decoupled: decay() leaves the gradient, direction(…, true) still decays", () => {
  const opt = createOptimizer(adamw({ lr: 0.1, weightDecay: 0.5 }), 2);
  const grad = f32(1, -2);
  assert.equal(opt.decay(grad, f32(4, 4)), grad);
  assert.deepEqual([...grad], [1, -2]);
  const reference = createOptimizer(adamw({ lr: 0.1, weightDecay: 0.5 }), 2);
  assert.deepEqual(
    [...opt.direction(grad, f32(4, 4), true)],
    [...reference.direction(grad, f32(4, 4))],
  );
});

Deno.test("adamw reset zeroes the moments and restarts the bias-correction count", () => {
  const opt = createOptimizer(adamw({ lr: 0.01, weightDecay: 0.1 }), 1);
  for (let i = 0; i < 3; i++) opt.direction(f32(1), f32(0));
  opt.resetMomentum();
  assert.deepEqual(opt.buffers().map((buffer) => [...buffer.data]), [[0], [0], [0]]);
  // As on the very first step: g / (|g| + eps) + wd · x.
  assertClose(opt.direction(f32(-3), f32(2)), [-3 / (3 + 1e-8) + 0.1 * 2], 1e-6);
});

Deno.test("adamwDirection is pure", () => {
  const moments = { m: f32(1), v: f32(1), vMax: null };
  const settings = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
  adamwDirection(settings, moments, f32(2), f32(3), 4);
  assert.deepEqual([...moments.m, ...moments.v], [1, 1]);
});

// ---------------------------------------------------------------------------------------------
// Gradient clipping: g · min(1, c / ‖g‖₂) before the optimizer's math

Deno.test("clipByNorm: a gradient of norm 10 clipped to 1 is exactly g / 10", () => {
  const g = f32(6, 0, -8);
  const clipped = clipByNorm(g, 1);
  assert.deepEqual([...clipped], [6 / 10, 0, -8 / 10].map(Math.fround));
  assert.deepEqual([...g], [6, 0, -8], "the input is left alone");
  // Clipped to 5: exactly g / 2.
  assert.deepEqual([...clipByNorm(g, 5)], [3, 0, -4]);
  // At or below the threshold: the very same vector.
  assert.equal(clipByNorm(g, 10), g);
  assert.equal(clipByNorm(g, 11), g);
  const zero = f32(0, 0);
  assert.equal(clipByNorm(zero, 1), zero);
  for (const c of [0, -1, Infinity, Number.NaN]) {
    assert.throws(() => clipByNorm(g, c), /clipNorm ".*" is not a finite number > 0/);
  }
});

Deno.test("clipByNorm takes the norm in float64 over the whole vector", () => {
  // 1e20² overflows float32 but not float64: ‖(1e20, 1e20)‖ = 1.414e20, scaled to norm 1.
  const huge = f32(1e20, 1e20);
  assertClose(clipByNorm(huge, 1), [Math.SQRT1_2, Math.SQRT1_2], 1e-7);
  // 10⁶ values of 1e-3: norm 1, so c = 0.5 halves them.
  const many = new Float32Array(1_000_000).fill(1e-3);
  const norm = Math.sqrt(many.reduce((sum, value) => sum + value * value, 0));
  assert.equal(clipByNorm(many, 0.5)[123], Math.fround(many[0]! * 0.5 / norm));
});

Deno.test("every optimizer clips the gradient it sees; below the threshold nothing changes", () => {
  const x = f32(0, 0, 0);
  const g = f32(6, 0, -8);
  // Plain SGD: the direction is the clipped gradient.
  const plain = createOptimizer(sgd({ lr: 0.1, clipNorm: 1 }), 3);
  assert.deepEqual([...plain.direction(g, x)], [0.6, 0, -0.8].map(Math.fround));
  // Below the threshold, the gradient itself (plain SGD makes no copy).
  const loose = createOptimizer(sgd({ lr: 0.1, clipNorm: 10 }), 3);
  assert.equal(loose.direction(g, x), g);
  // SGD with momentum accumulates clipped gradients: v = 0.5 · (0.6, 0, −0.8) + (0.6, 0, −0.8).
  const heavy = createOptimizer(sgd({ lr: 0.1, momentum: 0.5, clipNorm: 1 }), 3);
  heavy.direction(g, x);
  assertClose(heavy.direction(g, x), [0.9, 0, -1.2], 1e-7);
  // Adam's moments hold the clipped gradient: m = 0.1 g/10, v = 0.001 (g/10)².
  const moments = createOptimizer(adam({ lr: 0.1, clipNorm: 1 }), 3);
  moments.direction(g, x);
  assertClose(moments.buffers()[0]!.data, [0.06, 0, -0.08], 1e-7);
  assertClose(moments.buffers()[1]!.data, [0.00036, 0, 0.00064], 1e-7);
  // Below the threshold, every optimizer's directions are bit for bit those without clipping.
  for (
    const [clipped, unclipped] of [
      [
        sgd({ lr: 0.1, momentum: 0.9, weightDecay: 0.3, clipNorm: 100 }),
        sgd({
          lr: 0.1,
          momentum: 0.9,
          weightDecay: 0.3,
        }),
      ],
      [adam({ lr: 0.1, weightDecay: 0.3, clipNorm: 100 }), adam({ lr: 0.1, weightDecay: 0.3 })],
      [adamw({ lr: 0.1, clipNorm: 100 }), adamw({ lr: 0.1 })],
    ] as const
  ) {
    const a = createOptimizer(clipped, 3);
    const b = createOptimizer(unclipped, 3);
    for (const grad of GRADIENTS) {
      assert.deepEqual(a.direction(grad, f32(1, -2, 0.5)), b.direction(grad, f32(1, -2, 0.5)));
    }
  }
});

Deno.test("clipping sees the coupled decay (g + wd · x), never AdamW's decoupled one", () => {
  // sgd: g + wd x = (3, 0) + 1 · (0, 4) = (3, 4), norm 5, clipped to 1.
  const coupled = createOptimizer(sgd({ lr: 0.1, weightDecay: 1, clipNorm: 1 }), 2);
  assertClose(coupled.direction(f32(3, 0), f32(0, 4)), [0.6, 0.8], 1e-7);
  // A gradient that already carries the decay (a compressed all-reduce) is clipped as it is.
  const decayed = createOptimizer(sgd({ lr: 0.1, weightDecay: 1, clipNorm: 1 }), 2);
  assertClose(decayed.direction(f32(3, 4), f32(0, 4), true), [0.6, 0.8], 1e-7);
  // adamw: g = (6, 8) is clipped to (0.6, 0.8); the decay 0.5 · (10, 0) is added unclipped.
  const opt = createOptimizer(adamw({ lr: 0.1, weightDecay: 0.5, clipNorm: 1 }), 2);
  const dir = opt.direction(f32(6, 8), f32(10, 0));
  assertClose(dir, [0.6 / (0.6 + 1e-8) + 5, 0.8 / (0.8 + 1e-8)], 1e-7);
  assertClose(opt.buffers()[0]!.data, [0.06, 0.08], 1e-7);
});
