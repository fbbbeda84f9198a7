import assert from "node:assert/strict";
import * as tf from "../deps/tfjs.ts";
import { cnn } from "../dsl/models/mod.ts";
import { mnist } from "../dsl/data/mod.ts";
import { dataShape } from "../dsl/shapes.ts";
import { selectBackend } from "./backend.ts";
import { randomStream } from "./random.ts";
import { buildTfModel, tfTrainableModel } from "./models/tf_model.ts";
import { registerWasmKernels } from "./wasm_kernels.ts";

await selectBackend("wasm");

/** Seeded values. */
function values(n: number, seed: number): Float32Array {
  const random = randomStream(seed, "wasm-kernel-test");
  // Some exact zeros, as after a ReLU.
  return Float32Array.from({ length: n }, () => (random.uniform() < 0.3 ? 0 : random.normal()));
}

/** The filter gradient of `sum(conv2d(x, f) · w)` on the current backend. */
function filterGradient(
  xShape: [number, number, number, number],
  fShape: [number, number, number, number],
  strides: number,
  pad: "valid" | "same" | [[number, number], [number, number], [number, number], [number, number]],
): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(values(xShape.reduce((a, b) => a * b), 1), xShape);
    const f0 = tf.tensor4d(values(fShape.reduce((a, b) => a * b), 2), fShape);
    const y = tf.conv2d(x, f0, strides, pad);
    const w = tf.tensor(values(y.size, 3), y.shape);
    const grad = tf.grad((f) => tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, strides, pad), w)));
    return grad(f0).dataSync() as Float32Array;
  });
}

Deno.test("the wasm Conv2DBackpropFilter kernel matches the cpu backend's", async () => {
  assert.deepEqual(registerWasmKernels(), []); // selectBackend("wasm") registered it already
  const cases = [
    [[2, 9, 9, 1], [3, 3, 1, 4], 1, "valid"],
    [[3, 8, 7, 3], [5, 5, 3, 2], 1, "valid"],
    [[2, 9, 9, 2], [3, 3, 2, 3], 2, "same"],
    [[1, 6, 6, 2], [2, 3, 2, 2], 1, [[0, 0], [1, 2], [0, 1], [0, 0]]],
  ] as const;
  for (const [xShape, fShape, strides, pad] of cases) {
    await selectBackend("wasm");
    const wasm = filterGradient([...xShape], [...fShape], strides, pad as "valid");
    await selectBackend("cpu");
    const cpu = filterGradient([...xShape], [...fShape], strides, pad as "valid");
    assert.equal(wasm.length, cpu.length);
    for (let i = 0; i < cpu.length; i++) {
      assert.ok(Math.abs(wasm[i]! - cpu[i]!) < 1e-4 * (1 + Math.abs(cpu[i]!)), `${xShape} ${i}`);
    }
  }
  await selectBackend("wasm");
});

Deno.test("a LeNet-style cnn has the same gradient on wasm and cpu", async () => {
  const node = cnn({ filters: [3, 4], dense: [8] });
  const batch = { x: values(2 * 784, 4).map(Math.abs), y: new Float32Array([3, 7]), size: 2 };
  const run = async (backend: "wasm" | "cpu") => {
    await selectBackend(backend);
    const model = tfTrainableModel(buildTfModel(node, dataShape(mnist())));
    try {
      return await model.gradient(model.initialParameters(5), batch);
    } finally {
      model.dispose();
    }
  };
  const wasm = await run("wasm");
  const cpu = await run("cpu");
  await selectBackend("wasm");
  assert.ok(Math.abs(wasm.loss - cpu.loss) < 1e-5);
  for (let i = 0; i < cpu.grad.length; i++) {
    assert.ok(Math.abs(wasm.grad[i]! - cpu.grad[i]!) < 1e-4 * (1 + Math.abs(cpu.grad[i]!)), `${i}`);
  }
});
