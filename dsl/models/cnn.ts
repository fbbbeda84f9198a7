/**
 * `cnn()`: a small LeNet-style convolutional network for square grayscale images.
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { type Activation, activation, integer } from "../fields.ts";
import { buildNode, type ModelDefinition, type NodeIssue, type OptionNames } from "../kind.ts";
import { denseParameters, denseVariables } from "./_dense.ts";

/**
 * A small LeNet-style network for square grayscale images: two `kernel`×`kernel` valid
 * convolutions (each followed by 2×2 max-pooling), then dense layers, then the classifier.
 */
export interface CnnNode {
  /** Node kind, named after the DSL factory `cnn()`. */
  readonly kind: "cnn";
  /** Output channels of the first and of the second convolution. */
  readonly filters: readonly [number, number];
  /** Side of the square convolution kernels, in pixels. */
  readonly kernel: number;
  /** Widths of the dense layers between the convolutions and the classifier. */
  readonly dense: readonly number[];
  /** Activation of the convolutions and of the dense layers. */
  readonly activation: Activation;
}

/** Options of {@linkcode cnn}. */
export interface CnnOptions {
  /** Filters of the two convolutions (default `[6, 16]`, as in LeNet-5). */
  readonly filters?: readonly [number, number];
  /** Convolution kernel size (default 5). */
  readonly kernel?: number;
  /** Dense layer widths before the classifier (default `[120, 84]`). */
  readonly dense?: readonly number[];
  /** Activation (default `"relu"`). */
  readonly activation?: Activation;
}

const OPTIONS: OptionNames<CnnOptions> = {
  filters: true,
  kernel: true,
  dense: true,
  activation: true,
};

/**
 * A small LeNet-style convolutional network for image data such as MNIST.
 *
 * @param options Layer sizes and activation.
 * @returns A `cnn` model node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cnn } from "./cnn.ts";
 * assert.ok(cnn().kernel === 5);
 * ```
 */
export function cnn(options: CnnOptions = {}): CnnNode {
  const filters = options.filters ?? [6, 16];
  return buildNode(
    {
      kind: "cnn",
      filters: [filters[0], filters[1]],
      kernel: options.kernel ?? 5,
      dense: [...(options.dense ?? [120, 84])],
      activation: options.activation ?? "relu",
    },
    options,
    OPTIONS,
  );
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
 * import { cnn, cnnFeatureSide } from "./cnn.ts";
 * assert.ok(cnnFeatureSide(cnn(), 28) === 4);
 * ```
 */
export function cnnFeatureSide(model: CnnNode, side: number): number {
  const afterFirst = Math.floor((side - model.kernel + 1) / 2);
  return Math.floor((afterFirst - model.kernel + 1) / 2);
}

/** Everything the plan layer knows about `cnn`. */
export const cnnKind: ModelDefinition<CnnNode> = {
  schema: v.strictObject({
    kind: v.literal("cnn"),
    filters: v.tuple([integer(1), integer(1)]),
    kernel: integer(1),
    dense: v.array(integer(1)),
    activation,
  }),
  form: { make: cnn },
  task: "classification",
  parameters: (node, data) => {
    if (data.image === null || data.classes === null) return null;
    const [side, , channels] = data.image;
    const [f1, f2] = node.filters;
    const k2 = node.kernel * node.kernel;
    const featureSide = cnnFeatureSide(node, side);
    if (featureSide < 1) return null; // the kernel does not fit the image: no such model
    const flat = featureSide ** 2 * f2;
    return k2 * channels * f1 + f1 + k2 * f1 * f2 + f2 +
      denseParameters([flat, ...node.dense, data.classes]);
  },
  // conv0's kernel and bias, conv1's, then the dense layers' (pooling has no variables).
  variables: (node, data) => {
    if (data.image === null || data.classes === null) return null;
    const [side, , channels] = data.image;
    const [f1, f2] = node.filters;
    const k2 = node.kernel * node.kernel;
    const featureSide = cnnFeatureSide(node, side);
    if (featureSide < 1) return null;
    return [
      k2 * channels * f1,
      f1,
      k2 * f1 * f2,
      f2,
      ...denseVariables([featureSide ** 2 * f2, ...node.dense, data.classes]),
    ];
  },
  check: (node, { data, dataKind }): NodeIssue[] => {
    if (data.image === null) {
      return [{
        path: "",
        message: `cnn needs image data, but ${dataKind} data is not images`,
        expected: "mnist data",
        received: dataKind,
      }];
    }
    if (cnnFeatureSide(node, data.image[0]) >= 1) return [];
    return [{
      path: "kernel",
      message: `cnn kernel ${node.kernel} is too large for ${data.image[0]}×${
        data.image[1]
      } images`,
      expected: "a smaller kernel",
      received: node.kernel,
    }];
  },
};
