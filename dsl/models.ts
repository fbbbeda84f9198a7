/**
 * Model factories. Each returns a frozen plan node; the runtime builds the TensorFlow.js model
 * from the node and the data's shape, so a node never holds weights or functions.
 *
 * @module
 */

import { deepFreeze } from "./_freeze.ts";
import type {
  Activation,
  CnnNode,
  CustomModelNode,
  LinearNode,
  LogisticNode,
  MlpNode,
} from "./plan.ts";

/** Options of {@linkcode linear}. */
export interface LinearOptions {
  /** Number of weights (the number of columns of the data). */
  readonly dim: number;
  /** `"zeros"` (default) or `"random"`, seeded from the plan seed. */
  readonly init?: "zeros" | "random";
}

/**
 * A linear model without bias, `a·x`, for regression and the deterministic least-squares
 * problem.
 *
 * @param options The dimension and initialisation.
 * @returns A `linear` model node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear } from "./models.ts";
 * const model = linear({ dim: 3 });
 * assert.ok(model.init === "zeros");
 * ```
 */
export function linear(options: LinearOptions): LinearNode {
  return deepFreeze({ kind: "linear", dim: options.dim, init: options.init ?? "zeros" });
}

/** Options of {@linkcode logistic}. */
export interface LogisticOptions {
  /** Input features; by default the data's. */
  readonly inputs?: number;
  /** Output classes; by default the data's. */
  readonly classes?: number;
}

/**
 * Multinomial logistic regression (one dense softmax layer).
 *
 * @param options Input and class counts, each defaulting to the data's.
 * @returns A `logistic` model node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logistic } from "./models.ts";
 * assert.ok(logistic({ classes: 10 }).inputs === null);
 * ```
 */
export function logistic(options: LogisticOptions = {}): LogisticNode {
  return deepFreeze({
    kind: "logistic",
    inputs: options.inputs ?? null,
    classes: options.classes ?? null,
  });
}

/** Options of {@linkcode mlp}. */
export interface MlpOptions {
  /** Widths of the hidden layers, e.g. `[128]` or `[256, 128]`. */
  readonly hidden: readonly number[];
  /** Activation of the hidden layers (default `"relu"`). */
  readonly activation?: Activation;
}

/**
 * A multi-layer perceptron for classification.
 *
 * @param options Hidden layer widths and activation.
 * @returns An `mlp` model node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mlp } from "./models.ts";
 * assert.ok(mlp({ hidden: [128] }).activation === "relu");
 * ```
 */
export function mlp(options: MlpOptions): MlpNode {
  return deepFreeze({
    kind: "mlp",
    hidden: [...options.hidden],
    activation: options.activation ?? "relu",
  });
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

/**
 * A small LeNet-style convolutional network for image data such as MNIST.
 *
 * @param options Layer sizes and activation.
 * @returns A `cnn` model node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cnn } from "./models.ts";
 * assert.ok(cnn().kernel === 5);
 * ```
 */
export function cnn(options: CnnOptions = {}): CnnNode {
  const filters = options.filters ?? [6, 16];
  return deepFreeze({
    kind: "cnn",
    filters: [filters[0], filters[1]],
    kernel: options.kernel ?? 5,
    dense: [...(options.dense ?? [120, 84])],
    activation: options.activation ?? "relu",
  });
}

/** Options of {@linkcode custom}. */
export interface CustomModelOptions {
  /**
   * The module that builds the model: a path relative to the pipeline file (or plan file) it is
   * written in, as imports are, or a URL such as `new URL("./model.ts", import.meta.url)`. A
   * plan object run without being loaded from a file resolves it against the working directory.
   */
  readonly module: string | URL;
  /** The export to call (default `"default"`). */
  readonly export?: string;
}

/**
 * A model built by the user's own module. Each worker imports the module itself and calls the
 * named export with `{ inputShape, classes, tf }`, so the plan only carries the module's address.
 * `inputShape` is one example's shape without the batch: `[28, 28, 1]` for MNIST (height,
 * width, channels: add a `flatten` layer before dense layers), `[features]` for synthetic data.
 * The model must end in `classes` outputs (logits), or one output for regression.
 *
 * @param options The module and export name.
 * @returns A `custom` model node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { custom } from "./models.ts";
 * const model = custom({ module: "./my_model.ts", export: "build" });
 * assert.ok(model.export === "build");
 * ```
 */
export function custom(options: CustomModelOptions): CustomModelNode {
  const module = options.module instanceof URL ? options.module.href : options.module;
  return deepFreeze({ kind: "custom", module, export: options.export ?? "default" });
}
