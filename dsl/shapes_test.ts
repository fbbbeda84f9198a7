import { deepEqual, equal } from "node:assert/strict";
import { leastSquares, mnist, synthetic } from "./data/mod.ts";
import { cnn, custom, linear, logistic, mlp } from "./models/mod.ts";
import { cnnFeatureSide, dataShape, parameterCount } from "./shapes.ts";

Deno.test("dataShape: mnist is 28×28×1 images, 784 features, 10 classes", () => {
  deepEqual(dataShape(mnist()), {
    task: "classification",
    features: 784,
    classes: 10,
    image: [28, 28, 1],
  });
});

Deno.test("dataShape: synthetic follows the node; regression has one output", () => {
  deepEqual(dataShape(synthetic({ features: 12, classes: 3 })), {
    task: "classification",
    features: 12,
    classes: 3,
    image: null,
  });
  deepEqual(dataShape(synthetic({ task: "regression", features: 5 })), {
    task: "regression",
    features: 5,
    classes: 1,
    image: null,
  });
});

Deno.test("dataShape: least squares only knows its task until the file is read", () => {
  deepEqual(dataShape(leastSquares({ file: "shards.json" })), {
    task: "regression",
    features: null,
    classes: 1,
    image: null,
  });
});

Deno.test("cnnFeatureSide: two valid convolutions, each followed by 2×2 pooling", () => {
  // 28 −5+1 = 24 → 12 → 12 −5+1 = 8 → 4.
  equal(cnnFeatureSide(cnn(), 28), 4);
  // 28 −3+1 = 26 → 13 → 13 −3+1 = 11 → 5 (floor).
  equal(cnnFeatureSide(cnn({ kernel: 3 }), 28), 5);
  // 28 −9+1 = 20 → 10 → 10 −9+1 = 2 → 1: the largest kernel that still fits.
  equal(cnnFeatureSide(cnn({ kernel: 9 }), 28), 1);
  // 28 −10+1 = 19 → 9 → 9 −10+1 = 0 → 0: nothing left.
  equal(cnnFeatureSide(cnn({ kernel: 10 }), 28), 0);
});

Deno.test("parameterCount: linear has exactly dim weights, whatever the data", () => {
  equal(parameterCount(linear({ dim: 7 }), synthetic({ task: "regression", features: 7 })), 7);
  equal(parameterCount(linear({ dim: 3 }), leastSquares({ file: "x.json" })), 3);
});

Deno.test("parameterCount: logistic takes missing sizes from the data", () => {
  // 784·10 + 10.
  equal(parameterCount(logistic(), mnist()), 7850);
  // Synthetic defaults: 32 features, 10 classes → 32·10 + 10.
  equal(parameterCount(logistic(), synthetic()), 330);
  // Explicit sizes win: 5·3 + 3.
  equal(parameterCount(logistic({ inputs: 5, classes: 3 }), synthetic()), 18);
  // Explicit inputs on least squares (1 output): 3·1 + 1.
  equal(parameterCount(logistic({ inputs: 3 }), leastSquares({ file: "x.json" })), 4);
  // Unknown inputs.
  equal(parameterCount(logistic(), leastSquares({ file: "x.json" })), null);
});

Deno.test("parameterCount: mlp [128] on mnist is 101,770", () => {
  // 784·128 + 128 + 128·10 + 10 = 100,352 + 128 + 1,280 + 10.
  equal(parameterCount(mlp({ hidden: [128] }), mnist()), 101_770);
});

Deno.test("parameterCount: deeper and empty mlps", () => {
  // 32·256 + 256 + 256·128 + 128 + 128·10 + 10 = 8,192 + 256 + 32,768 + 128 + 1,280 + 10.
  equal(parameterCount(mlp({ hidden: [256, 128] }), synthetic()), 42_634);
  // No hidden layer: the same as logistic regression.
  equal(parameterCount(mlp({ hidden: [] }), mnist()), 7850);
  equal(parameterCount(mlp({ hidden: [8] }), leastSquares({ file: "x.json" })), null);
});

Deno.test("parameterCount: default cnn on mnist is LeNet-5 with valid convolutions (44,426)", () => {
  // conv1 5·5·1·6 + 6 = 156; conv2 5·5·6·16 + 16 = 2,416; flatten 4·4·16 = 256;
  // dense 256·120 + 120 = 30,840; 120·84 + 84 = 10,164; classifier 84·10 + 10 = 850.
  equal(156 + 2416 + 30840 + 10164 + 850, 44_426);
  equal(parameterCount(cnn(), mnist()), 44_426);
});

Deno.test("parameterCount: a smaller cnn computed by hand", () => {
  // filters [4, 8], kernel 3, no dense layer: conv1 3·3·1·4 + 4 = 40; conv2 3·3·4·8 + 8 = 296;
  // flatten 5·5·8 = 200; classifier 200·10 + 10 = 2,010. Total 2,346.
  equal(parameterCount(cnn({ filters: [4, 8], kernel: 3, dense: [] }), mnist()), 2346);
});

Deno.test("parameterCount: cnn without images and custom models are unknown", () => {
  equal(parameterCount(cnn(), synthetic()), null);
  equal(parameterCount(custom({ module: "./model.ts" }), mnist()), null);
  equal(parameterCount(custom({ module: "./model.ts" }), synthetic()), null);
});
