/**
 * Shapes derived from a plan: what the data looks like and how many parameters the model has.
 * The validator, the plan explanation and the runtime all use these, so a model and its data
 * are checked against each other once, here.
 *
 * @module
 */

import type { CnnNode, DataNode, ModelNode } from "./plan.ts";

/** What a data set feeds the model. */
export interface DataShape {
  /** `"classification"` (class labels, softmax outputs) or `"regression"` (real targets). */
  readonly task: "classification" | "regression";
  /** Flat input features; `null` when only the data file knows (least squares). */
  readonly features: number | null;
  /** Output classes (1 for regression). */
  readonly classes: number;
  /** `[height, width, channels]` for image data, else `null`. */
  readonly image: readonly [number, number, number] | null;
}

/** MNIST images: 28×28 grayscale, 10 classes. */
const MNIST_SHAPE: DataShape = {
  task: "classification",
  features: 784,
  classes: 10,
  image: [28, 28, 1],
};

/**
 * The shape of a data node.
 *
 * @param data The data node.
 * @returns Task, features, classes and image shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dataShape } from "./shapes.ts";
 * import { mnist } from "./data.ts";
 * assert.ok(dataShape(mnist()).features === 784);
 * ```
 */
export function dataShape(data: DataNode): DataShape {
  switch (data.kind) {
    case "mnist":
      return MNIST_SHAPE;
    case "synthetic":
      return {
        task: data.task,
        features: data.features,
        classes: data.task === "regression" ? 1 : data.classes,
        image: null,
      };
    case "leastSquares":
      return { task: "regression", features: null, classes: 1, image: null };
  }
}

/**
 * Side length of a LeNet-style network's feature map after both convolution + pooling stages.
 *
 * @param model The CNN node.
 * @param side The input image side.
 * @returns The final side (≤ 0 means the kernel is too large for the image).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cnnFeatureSide } from "./shapes.ts";
 * import { cnn } from "./models.ts";
 * assert.ok(cnnFeatureSide(cnn(), 28) === 4);
 * ```
 */
export function cnnFeatureSide(model: CnnNode, side: number): number {
  const afterFirst = Math.floor((side - model.kernel + 1) / 2);
  return Math.floor((afterFirst - model.kernel + 1) / 2);
}

/** Parameters of dense layers `widths[0] → widths[1] → …`, with biases. */
function denseParameters(widths: readonly number[]): number {
  let total = 0;
  for (let i = 1; i < widths.length; i++) {
    total += (widths[i - 1] ?? 0) * (widths[i] ?? 0) + (widths[i] ?? 0);
  }
  return total;
}

/**
 * The number of parameters `d` of a model on a data set: the length of the flat vector that
 * every algorithm works on.
 *
 * @param model The model node.
 * @param data The data node.
 * @returns `d`, or `null` when it is only known once a file or module is loaded (or when the
 *   model cannot be built on this data, which the validator reports).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parameterCount } from "./shapes.ts";
 * import { mlp } from "./models.ts";
 * import { mnist } from "./data.ts";
 * assert.ok(parameterCount(mlp({ hidden: [128] }), mnist()) === 784 * 128 + 128 + 128 * 10 + 10);
 * ```
 */
export function parameterCount(model: ModelNode, data: DataNode): number | null {
  const shape = dataShape(data);
  switch (model.kind) {
    case "linear":
      return model.dim;
    case "logistic": {
      const inputs = model.inputs ?? shape.features;
      return inputs === null ? null : denseParameters([inputs, model.classes ?? shape.classes]);
    }
    case "mlp":
      return shape.features === null
        ? null
        : denseParameters([shape.features, ...model.hidden, shape.classes]);
    case "cnn": {
      if (shape.image === null) return null;
      const [side, , channels] = shape.image;
      const [f1, f2] = model.filters;
      const k2 = model.kernel * model.kernel;
      const featureSide = cnnFeatureSide(model, side);
      if (featureSide < 1) return null; // the kernel does not fit the image: no such model
      const flat = featureSide ** 2 * f2;
      return k2 * channels * f1 + f1 + k2 * f1 * f2 + f2 +
        denseParameters([flat, ...model.dense, shape.classes]);
    }
    case "custom":
      return null;
  }
}
