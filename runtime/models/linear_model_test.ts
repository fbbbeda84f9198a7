import assert from "node:assert/strict";
import { linearLossAndGradient, linearModel } from "./linear_model.ts";

Deno.test("linear gradient equals the hand-computed value on a 2×2 example", async () => {
  // A = [[1, 2], [3, 4]], b = [1, 1], w = [1, -1]:
  // r = A w − b = [−1 − 1, −1 − 1] = [−2, −2]; loss = (4 + 4) / (2·2) = 2;
  // grad = Aᵀ r / 2 = [(1·−2 + 3·−2)/2, (2·−2 + 4·−2)/2] = [−4, −6].
  const batch = { x: new Float32Array([1, 2, 3, 4]), y: new Float32Array([1, 1]), size: 2 };
  const model = linearModel({ dim: 2, init: "zeros" });
  const { loss, grad } = await model.gradient(new Float32Array([1, -1]), batch);
  assert.equal(loss, 2);
  assert.deepEqual(grad, new Float32Array([-4, -6]));
  assert.deepEqual(await model.evaluate(new Float32Array([1, -1]), batch), {
    loss: 2,
    accuracy: null,
  });
});

Deno.test("linear gradient equals a central finite difference", () => {
  const d = 5;
  const m = 7;
  const x = Float32Array.from({ length: m * d }, (_, i) => Math.sin(i + 1));
  const y = Float32Array.from({ length: m }, (_, i) => Math.cos(i));
  const batch = { x, y, size: m };
  const w = Float32Array.from({ length: d }, (_, i) => 0.1 * i - 0.2);
  const { grad } = linearLossAndGradient(w, batch);
  const h = 1e-3;
  for (let j = 0; j < d; j++) {
    // Perturb in float64 by evaluating the loss directly (float32 weights would round h).
    const loss = (delta: number) => {
      let sum = 0;
      for (let i = 0; i < m; i++) {
        let r = -y[i]!;
        for (let k = 0; k < d; k++) r += x[i * d + k]! * (w[k]! + (k === j ? delta : 0));
        sum += r * r;
      }
      return sum / (2 * m);
    };
    const fd = (loss(h) - loss(-h)) / (2 * h);
    assert.ok(Math.abs(fd - grad[j]!) < 1e-9, `coordinate ${j}: ${fd} vs ${grad[j]}`);
  }
});

Deno.test("linear initialisation: zeros, or seeded random with variance 1/d", () => {
  assert.deepEqual(
    linearModel({ dim: 3, init: "zeros" }).initialParameters(5),
    new Float32Array(3),
  );
  const model = linearModel({ dim: 400, init: "random" });
  const a = model.initialParameters(5);
  assert.deepEqual(a, model.initialParameters(5));
  assert.notDeepEqual(a, model.initialParameters(6));
  const variance = a.reduce((s, v) => s + v * v, 0) / a.length;
  assert.ok(Math.abs(variance - 1 / 400) < 0.0005, `variance ${variance}`);
  assert.equal(model.parameterCount, 400);
});

Deno.test("linear model rejects mismatched batches and dims", async () => {
  const model = linearModel({ dim: 2, init: "zeros" });
  const batch = { x: new Float32Array([1, 2, 3]), y: new Float32Array([1]), size: 1 };
  await assert.rejects(() => model.gradient(new Float32Array(2), batch), RangeError);
  await assert.rejects(() => model.evaluate(new Float32Array(2), batch), RangeError);
  assert.throws(() => linearModel({ dim: 0, init: "zeros" }), RangeError);
  model.dispose();
});
