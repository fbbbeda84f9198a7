import assert from "node:assert/strict";
import { adam, sgd } from "../../dsl/optimizers/mod.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { adamDirection, applyBufferPolicy, createOptimizer, sgdDirection } from "./optimizers.ts";
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
