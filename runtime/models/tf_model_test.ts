import assert from "node:assert/strict";
import * as tf from "../../deps/tfjs.ts";
import { relative } from "node:path";
import { cnn, logistic, mlp } from "../../dsl/models/mod.ts";
import { mnist, synthetic } from "../../dsl/data/mod.ts";
import { dataShape, parameterCount } from "../../dsl/shapes.ts";
import type { DataShape } from "../../dsl/shapes.ts";
import { selectBackend } from "../backend.ts";
import { randomStream } from "../random.ts";
import type { Batch } from "../data/types.ts";
import {
  buildTfModel,
  initialWeight,
  loadCustomModel,
  readFlatParameters,
  tfTrainableModel,
} from "./tf_model.ts";

await selectBackend("wasm");

/** A random classification batch. */
function randomBatch(size: number, features: number, classes: number, seed = 1): Batch {
  const random = randomStream(seed, "test-batch");
  return {
    x: Float32Array.from({ length: size * features }, () => random.normal()),
    y: Float32Array.from({ length: size }, () => random.integer(classes)),
    size,
  };
}

const MNIST = dataShape(mnist());

Deno.test("parameter counts match dsl/shapes.ts: logistic, mlp [128], cnn on mnist", () => {
  const cases = [
    [logistic(), 7850],
    [mlp({ hidden: [128] }), 101770],
    [mlp({ hidden: [64, 32], activation: "tanh" }), null],
    [cnn(), 44426],
    [cnn({ filters: [4, 8], kernel: 3, dense: [32], activation: "elu" }), null],
  ] as const;
  for (const [node, expected] of cases) {
    const model = tfTrainableModel(buildTfModel(node, MNIST));
    try {
      assert.equal(model.parameterCount, parameterCount(node, mnist()));
      if (expected !== null) assert.equal(model.parameterCount, expected);
    } finally {
      model.dispose();
    }
  }
  const data = synthetic({ features: 12, classes: 5 });
  const model = tfTrainableModel(buildTfModel(mlp({ hidden: [7] }), dataShape(data)));
  assert.equal(model.parameterCount, parameterCount(mlp({ hidden: [7] }), data));
  model.dispose();
  assert.throws(() => buildTfModel(cnn(), dataShape(data)), /not images/);
  assert.throws(() => buildTfModel(cnn({ kernel: 13 }), MNIST), /too large/);
});

Deno.test("flat parameters round-trip, in variable order, row-major", async () => {
  const shape: DataShape = { task: "classification", features: 3, classes: 2, image: null };
  const spec = buildTfModel(mlp({ hidden: [4] }), shape);
  const model = tfTrainableModel(spec);
  try {
    const params = Float32Array.from({ length: model.parameterCount }, (_, i) => i / 10);
    await model.evaluate(params, randomBatch(2, 3, 2));
    assert.deepEqual(readFlatParameters(spec.model), params);
    // First weight: the hidden kernel [3, 4]; element [i][j] is params[i·4 + j].
    const kernel = spec.model.trainableWeights[0]!.read().arraySync() as number[][];
    assert.equal(kernel[1]![2], params[1 * 4 + 2]);
    assert.deepEqual(spec.model.trainableWeights.map((w) => w.shape), [[3, 4], [4], [4, 2], [2]]);
  } finally {
    model.dispose();
  }
});

Deno.test("seeded initialisation: Glorot-uniform kernels, zero biases, deterministic", () => {
  const model = tfTrainableModel(buildTfModel(mlp({ hidden: [128] }), MNIST));
  try {
    const a = model.initialParameters(3);
    assert.deepEqual(a, model.initialParameters(3));
    assert.notDeepEqual(a, model.initialParameters(4));
    const limit = Math.sqrt(6 / (784 + 128));
    const kernel = a.subarray(0, 784 * 128);
    assert.ok(kernel.every((v) => Math.abs(v) <= limit));
    const variance = kernel.reduce((s, v) => s + v * v, 0) / kernel.length;
    assert.ok(Math.abs(variance - limit ** 2 / 3) < 0.05 * limit ** 2, `variance ${variance}`);
    assert.ok(a.subarray(784 * 128, 784 * 128 + 128).every((v) => v === 0));
  } finally {
    model.dispose();
  }
  // Convolution fans: kernel [5, 5, 1, 6] has fanIn 25, fanOut 150.
  const conv = initialWeight([5, 5, 1, 6], "conv2d/kernel", 1, 0);
  assert.ok(conv.every((v) => Math.abs(v) <= Math.sqrt(6 / 175)));
  assert.ok(conv.some((v) => Math.abs(v) > 0.9 * Math.sqrt(6 / 175)));
  assert.deepEqual(initialWeight([2], "batch_normalization/gamma", 1, 3), new Float32Array([1, 1]));
});

Deno.test("gradient matches central finite differences on a tiny mlp", async () => {
  const shape: DataShape = { task: "classification", features: 3, classes: 3, image: null };
  const model = tfTrainableModel(buildTfModel(mlp({ hidden: [4], activation: "tanh" }), shape));
  try {
    const batch = randomBatch(5, 3, 3, 7);
    const params = model.initialParameters(11);
    for (let i = model.parameterCount - 6; i < model.parameterCount; i++) params[i] = 0.1 * i;
    const { loss, grad } = await model.gradient(params, batch);
    assert.ok(Math.abs(loss - (await model.evaluate(params, batch)).loss) < 1e-5);
    const h = 1e-2;
    for (let j = 0; j < model.parameterCount; j++) {
      const plus = params.slice();
      const minus = params.slice();
      plus[j] = plus[j]! + h;
      minus[j] = minus[j]! - h;
      const fd =
        ((await model.evaluate(plus, batch)).loss - (await model.evaluate(minus, batch)).loss) /
        (plus[j]! - minus[j]!);
      assert.ok(
        Math.abs(fd - grad[j]!) < 2e-3 + 1e-2 * Math.abs(grad[j]!),
        `parameter ${j}: finite difference ${fd}, gradient ${grad[j]}`,
      );
    }
  } finally {
    model.dispose();
  }
});

Deno.test("a gradient written into a caller's buffer equals a fresh one, and a wrong-sized buffer is left alone", async () => {
  const shape: DataShape = { task: "classification", features: 3, classes: 3, image: null };
  const model = tfTrainableModel(buildTfModel(mlp({ hidden: [4] }), shape));
  try {
    const batch = randomBatch(5, 3, 3, 7);
    const params = model.initialParameters(3);
    const fresh = await model.gradient(params, batch);
    const into = new Float32Array(model.parameterCount).fill(Number.NaN);
    const reused = await model.gradient(params, batch, into);
    assert.equal(reused.grad, into);
    assert.deepEqual([...into], [...fresh.grad]);
    assert.equal(reused.loss, fresh.loss);
    const short = new Float32Array(model.parameterCount - 1);
    const other = await model.gradient(params, batch, short);
    assert.notEqual(other.grad, short);
    assert.deepEqual([...other.grad], [...fresh.grad]);
  } finally {
    model.dispose();
  }
});

Deno.test("loss decreases over a few SGD steps on a small synthetic problem", async () => {
  const shape: DataShape = { task: "classification", features: 8, classes: 3, image: null };
  const model = tfTrainableModel(buildTfModel(mlp({ hidden: [16] }), shape));
  try {
    // Labels from a fixed linear rule, so the problem is learnable.
    const batch = randomBatch(64, 8, 3, 2);
    const y = new Float32Array(64);
    for (let i = 0; i < 64; i++) {
      const row = batch.x.subarray(i * 8, i * 8 + 8);
      const scores = [row[0]! + row[1]!, row[2]! - row[3]!, row[4]! * 0.5 - row[0]!];
      y[i] = scores.indexOf(Math.max(...scores));
    }
    const data = { ...batch, y };
    const params = model.initialParameters(1);
    const before = await model.evaluate(params, data);
    for (let step = 0; step < 30; step++) {
      const { grad } = await model.gradient(params, data);
      for (let i = 0; i < params.length; i++) params[i] = params[i]! - 0.5 * grad[i]!;
    }
    const after = await model.evaluate(params, data);
    assert.ok(after.loss < 0.7 * before.loss, `loss ${before.loss} → ${after.loss}`);
    assert.ok(
      after.accuracy! > before.accuracy!,
      `accuracy ${before.accuracy} → ${after.accuracy}`,
    );
  } finally {
    model.dispose();
  }
});

Deno.test("evaluate gives mean loss and accuracy, in chunks, matching a direct computation", async () => {
  const shape: DataShape = { task: "classification", features: 2, classes: 2, image: null };
  const model = tfTrainableModel(buildTfModel(logistic(), shape));
  try {
    // Logits = x · W with W = identity, no bias: class = larger coordinate.
    const params = new Float32Array([1, 0, 0, 1, 0, 0]);
    const size = 2500; // more than one evaluation chunk
    const x = new Float32Array(size * 2);
    const y = new Float32Array(size);
    let expectedLoss = 0;
    let expectedCorrect = 0;
    for (let i = 0; i < size; i++) {
      x[i * 2] = (i % 7) / 7;
      x[i * 2 + 1] = (i % 5) / 5;
      y[i] = i % 2;
      const [a, b] = [x[i * 2]!, x[i * 2 + 1]!];
      const z = y[i] === 0 ? a : b;
      expectedLoss += Math.log(Math.exp(a) + Math.exp(b)) - z;
      if ((a > b ? 0 : 1) === y[i] && a !== b) expectedCorrect++;
      else if (a === b && y[i] === 0) expectedCorrect++; // argMax ties pick the first class
    }
    const result = await model.evaluate(params, { x, y, size });
    assert.ok(Math.abs(result.loss - expectedLoss / size) < 1e-4, `loss ${result.loss}`);
    assert.equal(result.accuracy, expectedCorrect / size);
  } finally {
    model.dispose();
  }
});

Deno.test("regression outputs use half the mean squared error and no accuracy", async () => {
  const shape: DataShape = { task: "regression", features: 3, classes: 1, image: null };
  const spec = buildTfModel(mlp({ hidden: [4], activation: "tanh" }), shape);
  assert.equal(spec.output, "values");
  const model = tfTrainableModel(spec);
  try {
    const batch = { x: new Float32Array(6).fill(0.5), y: new Float32Array([1, 3]), size: 2 };
    // Zero parameters predict 0: loss = (1 + 9) / (2·2) = 2.5.
    const zero = new Float32Array(model.parameterCount);
    assert.deepEqual(await model.evaluate(zero, batch), { loss: 2.5, accuracy: null });
    // Only the output bias (the last parameter) has a gradient at zero: mean(ŷ − y) = −2.
    const { loss, grad } = await model.gradient(zero, batch);
    assert.equal(loss, 2.5);
    assert.ok(Math.abs(grad[grad.length - 1]! + 2) < 1e-6);
  } finally {
    model.dispose();
  }
});

Deno.test("the tensor count stays constant across 50 gradient and evaluate calls", async () => {
  for (const node of [mlp({ hidden: [32] }), cnn({ filters: [2, 4], dense: [8] })]) {
    const model = tfTrainableModel(buildTfModel(node, MNIST));
    try {
      const params = model.initialParameters(1);
      const batch = randomBatch(4, 784, 10);
      await model.gradient(params, batch);
      await model.evaluate(params, batch);
      const start = tf.memory().numTensors;
      for (let i = 0; i < 50; i++) {
        const { grad } = await model.gradient(params, batch);
        assert.equal(grad.length, model.parameterCount);
        await model.evaluate(params, batch);
      }
      assert.equal(tf.memory().numTensors, start, node.kind);
    } finally {
      model.dispose();
    }
  }
});

Deno.test("mismatched parameters or batches are rejected", async () => {
  const shape: DataShape = { task: "classification", features: 2, classes: 2, image: null };
  const model = tfTrainableModel(buildTfModel(logistic(), shape));
  await assert.rejects(() => model.gradient(new Float32Array(5), randomBatch(1, 2, 2)), RangeError);
  await assert.rejects(() => model.gradient(new Float32Array(6), randomBatch(1, 3, 2)), RangeError);
  model.dispose();
  await assert.rejects(() => model.evaluate(new Float32Array(6), randomBatch(1, 2, 2)), /disposed/);
});

/** Writes a custom model module to a temporary file. */
async function moduleFile(source: string): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".js" });
  await Deno.writeTextFile(path, source);
  return path;
}

Deno.test("custom models: built from a module path, with the data's shape", async () => {
  const path = await moduleFile(`export function build({ inputShape, classes, tf }) {
    return tf.sequential({ layers: [
      tf.layers.flatten({ inputShape }),
      tf.layers.dense({ units: 5, activation: "relu" }),
      tf.layers.dense({ units: classes, activation: "softmax" }),
    ] });
  }
  export const notAFunction = 3;
  export function notAModel() { return { hello: 1 }; }
  export function wrongOutput({ inputShape, tf }) {
    return tf.sequential({ layers: [tf.layers.flatten({ inputShape }), tf.layers.dense({ units: 3 })] });
  }
  export function noFlatten({ inputShape, classes, tf }) {
    return tf.sequential({ layers: [tf.layers.dense({ inputShape, units: classes })] });
  }`);
  try {
    const spec = await loadCustomModel(relative(Deno.cwd(), path), "build", MNIST);
    assert.deepEqual(spec.inputShape, [28, 28, 1]);
    assert.equal(spec.output, "probabilities");
    const model = tfTrainableModel(spec);
    try {
      assert.equal(model.parameterCount, 784 * 5 + 5 + 5 * 10 + 10);
      const params = model.initialParameters(1);
      const batch = randomBatch(3, 784, 10);
      const start = tf.memory().numTensors;
      const { loss, grad } = await model.gradient(params, batch);
      assert.ok(Number.isFinite(loss) && loss > 0);
      assert.equal(grad.length, model.parameterCount);
      assert.equal(tf.memory().numTensors, start);
    } finally {
      model.dispose();
    }
    await assert.rejects(
      () => loadCustomModel(path, "missing", MNIST),
      /export "missing".*missing \(exports: build, noFlatten, notAFunction, notAModel, wrongOutput\)/,
    );
    await assert.rejects(
      () => loadCustomModel(path, "notAFunction", MNIST),
      /is a number, not a function/,
    );
    await assert.rejects(
      () => loadCustomModel(path, "notAModel", MNIST),
      /returned an object \(Object\), not a tf\.LayersModel/,
    );
    await assert.rejects(
      () => loadCustomModel(path, "wrongOutput", MNIST),
      /output shape is \[,3\] but the data have 10 classes/,
    );
    // A dense layer on images keeps the image's axes: the message says what to add.
    await assert.rejects(
      () => loadCustomModel(path, "noFlatten", MNIST),
      /output has shape \[batch,28,28,10\], but it must be \[batch, 10\]: each example arrives with shape \[28,28,1\]; add tf\.layers\.flatten\(\) before the dense layers/,
    );
    await assert.rejects(
      () => loadCustomModel("./no/such/module.ts", "default", MNIST),
      /Cannot import custom model module "\.\/no\/such\/module\.ts"/,
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("custom model builder errors keep the builder's message", async () => {
  const path = await moduleFile(
    `export default () => { throw new Error("the model builder exploded"); };`,
  );
  try {
    await assert.rejects(
      () => loadCustomModel(`file://${path}`, "default", MNIST),
      /export "default": the builder failed: the model builder exploded/,
    );
  } finally {
    await Deno.remove(path);
  }
});
