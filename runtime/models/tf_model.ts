/**
 * TensorFlow.js models behind the flat-vector {@linkcode TrainableModel} contract.
 *
 * Built-in architectures (matching `dsl/shapes.ts` `parameterCount` exactly):
 * - `logistic`: one dense layer to the classes, softmax;
 * - `mlp`: dense hidden layers with the node's activation, then a dense softmax classifier;
 * - `cnn` (LeNet-style): `conv(k×k, filters[0], valid, act)` → `maxPool 2` →
 *   `conv(k×k, filters[1], valid, act)` → `maxPool 2` → flatten → dense layers (act) → dense
 *   softmax classifier;
 * - `custom`: the user's module builds any `tf.LayersModel` (see {@linkcode loadCustomModel}).
 *
 * The built-in classifiers output logits and apply the softmax inside the loss
 * (`logSumExp(z) − z_y`, the numerically stable form of softmax cross-entropy); a custom model
 * whose last layer has a softmax activation is treated as outputting probabilities (clipped to
 * `[1e-7, 1 − 1e-7]` before the log, as Keras does), any other as outputting logits. Regression
 * models use half the mean squared error, `(1/(2m)) Σ (ŷ − y)²`, like the linear model.
 *
 * Flat parameters are the model's trainable weights in `model.trainableWeights` order (layer by
 * layer, kernel then bias), each flattened row-major. `gradient` writes the flat vector into the
 * variables (new tensors assigned to them: writing into a variable's memory in place would be
 * wrong on WASM, whose XNNPACK matrix-multiply operators cache packed weights per tensor), computes
 * the mean loss over the batch with `tf.variableGrads`, and reads the gradients back into one
 * fresh flat array; everything it creates is freed (`tf.tidy` and explicit disposal), so the
 * tensor count stays constant across calls.
 *
 * Initialisation uses our seeded PRNG rather than TensorFlow.js's initialisers (whose seeds do
 * not cover every initialiser and which draw from `Math.random` by default): weight `i` is drawn
 * from `randomStream(seed, "init", i)`, Glorot-uniform (`U(±√(6/(fanIn + fanOut)))`, Keras'
 * fans: `fanIn = shape[-2]·receptive`, `fanOut = shape[-1]·receptive`) for weights of rank ≥ 2,
 * ones for rank-1 weights named `gamma` or `moving_variance` (normalisation scales), zeros for
 * other rank-1 weights (biases). These are the Keras defaults of dense and convolution layers.
 *
 * @module
 */

import * as tf from "../../deps/tfjs.ts";
import type { CnnNode, LogisticNode, MlpNode } from "../../dsl/plan.ts";
import type { DataShape } from "../../dsl/shapes.ts";
import { randomStream } from "../random.ts";
import type { Batch } from "../data/types.ts";
import { readFlat } from "./read_flat.ts";
import type { Evaluation, TensorLayout, TrainableModel } from "./types.ts";
import { messageOf } from "../errors.ts";

/** What a model's output means. */
export type OutputKind = "logits" | "probabilities" | "values";

/** A TensorFlow.js model and how to read its output. */
export interface TfModelSpec {
  /** The model; its trainable weights are the flat parameters. */
  readonly model: tf.LayersModel;
  /** Input shape of one example, without the batch dimension (e.g. `[784]`, `[28, 28, 1]`). */
  readonly inputShape: readonly number[];
  /** `logits`/`probabilities` for classification (one output per class), `values` for regression. */
  readonly output: OutputKind;
  /** Number of classes (1 for regression). */
  readonly classes: number;
}

/** Rows evaluated per forward pass in {@linkcode TrainableModel.evaluate}. */
const EVAL_CHUNK = 1000;

/**
 * Builds the TensorFlow.js layers of a built-in model node for a data shape. Initial weights
 * are zeros: the flat parameters set them before every use.
 *
 * @param node A `logistic`, `mlp` or `cnn` node.
 * @param shape The data's shape (features, classes, image).
 * @returns The model, input shape and output kind.
 * @throws {RangeError} When the data lacks what the model needs (features, an image for `cnn`,
 *   room for the convolutions).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildTfModel } from "./tf_model.ts";
 * import { selectBackend } from "../backend.ts";
 * await selectBackend("cpu");
 * const shape = { task: "classification", features: 4, classes: 3, image: null } as const;
 * const spec = buildTfModel({ kind: "logistic", inputs: null, classes: null }, shape);
 * assert.ok(spec.model.countParams() === 15);
 * spec.model.dispose();
 * ```
 */
export function buildTfModel(
  node: LogisticNode | MlpNode | CnnNode,
  shape: DataShape,
): TfModelSpec {
  const regression = shape.task === "regression";
  const classes = regression
    ? 1
    : node.kind === "logistic"
    ? node.classes ?? shape.classes
    : shape.classes;
  if (classes === null) {
    throw new RangeError(`Cannot build a ${node.kind} model: the data's class count is unknown`);
  }
  const output: OutputKind = regression ? "values" : "logits";
  const zeros = { kernelInitializer: "zeros", biasInitializer: "zeros" } as const;
  const model = tf.sequential();
  let inputShape: number[];
  if (node.kind === "cnn") {
    if (shape.image === null) {
      throw new RangeError("Cannot build a cnn: the data are not images");
    }
    const [side, width, channels] = shape.image;
    inputShape = [side, width, channels];
    const { kernel, activation, filters } = node;
    const after = Math.floor((Math.floor((side - kernel + 1) / 2) - kernel + 1) / 2);
    if (after < 1) {
      throw new RangeError(
        `Cannot build a cnn: kernel ${kernel} is too large for ${side}×${side} images`,
      );
    }
    model.add(
      tf.layers.conv2d({
        name: "conv0",
        inputShape,
        filters: filters[0],
        kernelSize: kernel,
        padding: "valid",
        activation,
        ...zeros,
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
    model.add(
      tf.layers.conv2d({
        name: "conv1",
        filters: filters[1],
        kernelSize: kernel,
        padding: "valid",
        activation,
        ...zeros,
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
    model.add(tf.layers.flatten());
    node.dense.forEach((units, i) =>
      model.add(tf.layers.dense({ name: `hidden${i}`, units, activation, ...zeros }))
    );
  } else {
    const features = node.kind === "logistic" ? node.inputs ?? shape.features : shape.features;
    if (features === null) {
      throw new RangeError(
        `Cannot build a ${node.kind} model: the data's feature count is unknown`,
      );
    }
    inputShape = [features];
    if (node.kind === "mlp") {
      node.hidden.forEach((units, i) =>
        model.add(tf.layers.dense({
          name: `hidden${i}`,
          units,
          activation: node.activation,
          ...(i === 0 ? { inputShape } : {}),
          ...zeros,
        }))
      );
    }
  }
  const first = model.layers.length === 0;
  model.add(
    tf.layers.dense({
      name: "output",
      units: classes,
      activation: "linear",
      ...(first ? { inputShape } : {}),
      ...zeros,
    }),
  );
  return { model, inputShape, output, classes };
}

/** Module specifiers with a scheme (`file:`, `https:`, `npm:`, …) are used as they are. */
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/**
 * What to add to a failure that is Deno refusing a permission: Deno's own message says to run
 * again with an `--allow-…` flag, but workers are given their permissions by gossamer on purpose
 * (runtime/worker/permissions.ts), so say that instead.
 */
function deniedHint(error: unknown): string {
  if (!(error instanceof Deno.errors.NotCapable)) return "";
  return " (workers run with limited permissions: they read files and reach the run's hosts, " +
    "but cannot write files, start processes, read the environment or load native code; " +
    "a custom model only builds the model)";
}

/**
 * Imports a custom model module and calls its builder with `{ inputShape, classes, tf }`.
 * Relative paths are resolved against `Deno.cwd()`; the builder may be async and must return
 * a `tf.LayersModel` with one output per class (or one output for regression).
 *
 * @param specifier The module: a path or a URL.
 * @param exportName The builder's export name (e.g. `"default"`).
 * @param shape The data's shape.
 * @returns The model, input shape and output kind.
 * @throws {Error} Naming the module and export when the import fails, the export is missing or
 *   not a function, the builder throws, or it returns something other than a `tf.LayersModel`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadCustomModel } from "./tf_model.ts";
 * import { selectBackend } from "../backend.ts";
 * await selectBackend("cpu");
 * const source = "export const build = ({ inputShape, classes, tf }) => " +
 *   "tf.sequential({ layers: [tf.layers.dense({ inputShape, units: classes })] });";
 * const url = `data:application/javascript,${encodeURIComponent(source)}`;
 * const shape = { task: "classification", features: 3, classes: 2, image: null } as const;
 * const spec = await loadCustomModel(url, "build", shape);
 * assert.ok(spec.model.countParams() === 8 && spec.output === "logits");
 * spec.model.dispose();
 * ```
 */
export async function loadCustomModel(
  specifier: string,
  exportName: string,
  shape: DataShape,
): Promise<TfModelSpec> {
  const where = `custom model module "${specifier}" export "${exportName}"`;
  const url = HAS_SCHEME.test(specifier) ? specifier : toFileUrl(specifier);
  let module: Record<string, unknown>;
  try {
    module = await import(url);
  } catch (error) {
    throw new Error(
      `Cannot import custom model module "${specifier}": ${messageOf(error)}${deniedHint(error)}`,
    );
  }
  const build = module[exportName];
  if (build === undefined) {
    const names = Object.keys(module).join(", ") || "none";
    throw new Error(`Cannot build the ${where}: the export is missing (exports: ${names})`);
  }
  if (typeof build !== "function") {
    throw new Error(`Cannot build the ${where}: the export is a ${typeof build}, not a function`);
  }
  const inputShape = shape.image !== null
    ? [...shape.image]
    : shape.features !== null
    ? [shape.features]
    : null;
  if (inputShape === null || shape.classes === null) {
    const unknown = inputShape === null ? "feature" : "class";
    throw new Error(`Cannot build the ${where}: the data's ${unknown} count is unknown`);
  }
  let model: unknown;
  try {
    model = await build({ inputShape, classes: shape.classes, tf });
  } catch (error) {
    throw new Error(
      `Cannot build the ${where}: the builder failed: ${messageOf(error)}${deniedHint(error)}`,
    );
  }
  if (!isLayersModel(model)) {
    throw new Error(
      `Cannot build the ${where}: the builder returned ${describe(model)}, not a tf.LayersModel`,
    );
  }
  const outputShape = model.outputs[0]?.shape ?? [];
  const units = outputShape[outputShape.length - 1];
  if (model.outputs.length === 1 && outputShape.length !== 2) {
    model.dispose();
    throw new Error(
      `Cannot build the ${where}: its output has shape [${
        outputShape.map((size) => size ?? "batch")
      }], but it must be [batch, ${shape.classes}]: each example arrives with shape [${inputShape}]${
        inputShape.length > 1 ? "; add tf.layers.flatten() before the dense layers" : ""
      }`,
    );
  }
  if (model.outputs.length !== 1 || units !== shape.classes) {
    model.dispose();
    throw new Error(
      `Cannot build the ${where}: the model's output shape is [${outputShape}] but the data have ${shape.classes} ${
        shape.task === "regression" ? "target" : "classes"
      }`,
    );
  }
  const last = model.layers[model.layers.length - 1];
  const softmax =
    (last?.getConfig() as { activation?: unknown } | undefined)?.activation === "softmax";
  const output: OutputKind = shape.task === "regression"
    ? "values"
    : softmax
    ? "probabilities"
    : "logits";
  return { model, inputShape, output, classes: shape.classes };
}

/** A path, relative paths against the working directory, as a `file:` URL. */
function toFileUrl(path: string): string {
  const cwd = Deno.cwd().replaceAll("\\", "/").replace(/\/?$/, "/");
  return new URL(path, new URL(`file://${cwd.startsWith("/") ? "" : "/"}${cwd}`)).href;
}

/** A short description of a value for messages. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return `an object (${value.constructor?.name ?? "Object"})`;
}

/** Whether a value looks like a `tf.LayersModel` (duck-typed, in case of another tfjs copy). */
function isLayersModel(value: unknown): value is tf.LayersModel {
  if (value instanceof tf.LayersModel) return true;
  const candidate = value as Partial<tf.LayersModel> | null;
  return typeof candidate?.apply === "function" && Array.isArray(candidate.trainableWeights) &&
    Array.isArray(candidate.outputs) && typeof candidate.dispose === "function";
}

/** Keras' fans of a weight shape. */
function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 2) return { fanIn: shape[0]!, fanOut: shape[1]! };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return {
    fanIn: shape[shape.length - 2]! * receptive,
    fanOut: shape[shape.length - 1]! * receptive,
  };
}

/**
 * Seeded initial values of one weight (see the module notes).
 *
 * @param shape The weight's shape.
 * @param name The weight's name (rank-1 weights named `gamma`/`moving_variance` start at one).
 * @param seed The seed.
 * @param index The weight's position in the model, which keys its random stream.
 * @returns The flat initial values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initialWeight } from "./tf_model.ts";
 * const kernel = initialWeight([4, 2], "dense/kernel", 1, 0);
 * assert.ok(kernel.every((v) => Math.abs(v) <= 1));
 * assert.ok(initialWeight([2], "dense/bias", 1, 1).every((v) => v === 0));
 * ```
 */
export function initialWeight(
  shape: readonly number[],
  name: string,
  seed: number,
  index: number,
): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (shape.length >= 2) {
    const { fanIn, fanOut } = fans(shape);
    const limit = Math.sqrt(6 / Math.max(1, fanIn + fanOut));
    const random = randomStream(seed, "init", index);
    return Float32Array.from({ length: size }, () => (2 * random.uniform() - 1) * limit);
  }
  const one = /(^|\/)(gamma|moving_variance)(_\d+)?$/.test(name);
  return new Float32Array(size).fill(one ? 1 : 0);
}

/**
 * The names `model.safetensors` gives a TensorFlow.js model's weights: the Keras weight name with
 * `/` turned into `.` (built-in models name their layers `conv0`, `conv1`, `hidden0`, …,
 * `output`, so an MLP's tensors are `hidden0.kernel`, `hidden0.bias`, …, `output.kernel`,
 * `output.bias`). Shapes are Keras's: a dense kernel is `[inputs, units]` (the transpose of
 * PyTorch's `Linear.weight`), a convolution kernel `[height, width, in, out]`. A name that
 * repeats gets its position appended, so every name is unique.
 *
 * @param names The weights' Keras names, in flat-vector order.
 * @param shapes Their shapes.
 * @returns The layout.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensorLayout } from "./tf_model.ts";
 * const layout = tensorLayout(["output/kernel", "output/bias", "output/bias"], [[2, 3], [3], [3]]);
 * assert.deepEqual(layout.map((t) => t.name), ["output.kernel", "output.bias", "output.bias.2"]);
 * ```
 */
export function tensorLayout(
  names: readonly string[],
  shapes: readonly (readonly number[])[],
): TensorLayout[] {
  const seen = new Set<string>();
  return names.map((keras, i) => {
    let name = keras.replaceAll("/", ".");
    if (seen.has(name)) name = `${name}.${i}`;
    seen.add(name);
    return { name, shape: [...shapes[i]!] };
  });
}

/**
 * Reads a TensorFlow.js model's trainable weights as one flat vector in the order
 * {@linkcode tfTrainableModel} uses: `trainableWeights` order, each row-major.
 *
 * @param model The model.
 * @returns The flat parameters.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildTfModel, readFlatParameters } from "./tf_model.ts";
 * import { selectBackend } from "../backend.ts";
 * await selectBackend("cpu");
 * const shape = { task: "classification", features: 2, classes: 2, image: null } as const;
 * const { model } = buildTfModel({ kind: "logistic", inputs: null, classes: null }, shape);
 * assert.ok(readFlatParameters(model).length === 6);
 * model.dispose();
 * ```
 */
export function readFlatParameters(model: tf.LayersModel): Float32Array {
  const parts = model.trainableWeights.map((weight) => weight.read().dataSync() as Float32Array);
  const flat = new Float32Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    flat.set(part, offset);
    offset += part.length;
  }
  return flat;
}

/**
 * Wraps a TensorFlow.js model as a {@linkcode TrainableModel} over flat float32 parameters.
 * Select the backend first (`selectBackend`).
 *
 * @param spec The model, its input shape and output kind.
 * @returns The trainable model; `dispose` frees the model's weights.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildTfModel, tfTrainableModel } from "./tf_model.ts";
 * import { selectBackend } from "../backend.ts";
 * await selectBackend("cpu");
 * const shape = { task: "classification", features: 2, classes: 2, image: null } as const;
 * const model = tfTrainableModel(buildTfModel({ kind: "logistic", inputs: null, classes: null }, shape));
 * const batch = { x: new Float32Array([1, 0, 0, 1]), y: new Float32Array([0, 1]), size: 2 };
 * const { loss, grad } = await model.gradient(new Float32Array(model.parameterCount), batch);
 * assert.ok(Math.abs(loss - Math.log(2)) < 1e-6 && grad.length === 6);
 * model.dispose();
 * ```
 */
export function tfTrainableModel(spec: TfModelSpec): TrainableModel {
  const { model, inputShape, output, classes } = spec;
  const weights = model.trainableWeights;
  const variables = weights.map((w) => w.read() as tf.Variable);
  const shapes = variables.map((v) => v.shape);
  const sizes = shapes.map((shape) => shape.reduce((a, b) => a * b, 1));
  const parameterCount = sizes.reduce((a, b) => a + b, 0);
  const features = inputShape.reduce((a, b) => a * b, 1);
  const tensors = tensorLayout(weights.map((w) => w.originalName ?? w.name), shapes);
  let disposed = false;

  const check = (params: Float32Array, batch: Batch) => {
    if (disposed) throw new Error("The model has been disposed");
    if (params.length !== parameterCount) {
      throw new RangeError(`Expected ${parameterCount} parameters but got ${params.length}`);
    }
    if (
      batch.size < 1 || batch.x.length !== batch.size * features || batch.y.length !== batch.size
    ) {
      throw new RangeError(
        `Expected a batch of rows with ${features} inputs but got ${batch.x.length} inputs and ${batch.y.length} targets for ${batch.size} rows`,
      );
    }
  };

  /**
   * Writes the flat vector into the variables (inside the caller's tidy). The WASM backend
   * copies a tensor's values into its heap when the tensor is made, so a view of `params` is
   * enough there; the CPU and WebGPU backends keep the array they are given, so they get a copy
   * (the caller may change `params` afterwards). Avoiding the copy matters: a fresh 400 KB
   * buffer per step is a measurable part of an MLP step on WASM.
   */
  const setParameters = (params: Float32Array) => {
    const copies = tf.getBackend() !== "wasm";
    let offset = 0;
    variables.forEach((variable, i) => {
      const end = offset + sizes[i]!;
      const values = copies ? params.slice(offset, end) : params.subarray(offset, end);
      variable.assign(tf.tensor(values, shapes[i]!, "float32"));
      offset = end;
    });
  };

  /** Per-example losses and the outputs for rows `[start, end)` (inside a tidy). */
  const forward = (batch: Batch, start: number, end: number, training: boolean) => {
    const rows = end - start;
    const x = tf.tensor(
      batch.x.subarray(start * features, end * features),
      [rows, ...inputShape],
      "float32",
    );
    const out = model.apply(x, { training }) as tf.Tensor;
    const targets = batch.y.subarray(start, end);
    if (output === "values") {
      const y = tf.tensor1d(targets, "float32");
      const losses = tf.mul(0.5, tf.square(tf.sub(tf.reshape(out, [rows]), y)));
      return { losses, out };
    }
    const labels = tf.tensor1d(Int32Array.from(targets), "int32");
    const oneHot = tf.oneHot(labels, classes);
    const losses = output === "logits"
      ? tf.sub(tf.logSumExp(out, 1), tf.sum(tf.mul(oneHot, out), 1))
      : tf.neg(tf.sum(tf.mul(oneHot, tf.log(tf.clipByValue(out, 1e-7, 1 - 1e-7))), 1));
    return { losses, out, labels };
  };

  return {
    parameterCount,
    tensors,
    initialParameters(seed: number): Float32Array {
      const flat = new Float32Array(parameterCount);
      let offset = 0;
      weights.forEach((weight, i) => {
        flat.set(initialWeight(shapes[i]!, weight.originalName ?? weight.name, seed, i), offset);
        offset += sizes[i]!;
      });
      return flat;
    },
    async gradient(params: Float32Array, batch: Batch, into?: Float32Array) {
      check(params, batch);
      const { value, grads } = tf.tidy(() => {
        setParameters(params);
        const { value, grads } = tf.variableGrads(
          () => tf.mean(forward(batch, 0, batch.size, true).losses) as tf.Scalar,
          variables,
        );
        return { value, grads: variables.map((v) => grads[v.name]!) };
      });
      try {
        const grad = await readFlat(grads, parameterCount, into);
        const loss = (await value.data())[0]!;
        return { loss, grad };
      } finally {
        tf.dispose([value, ...grads]);
      }
    },
    async evaluate(params: Float32Array, batch: Batch): Promise<Evaluation> {
      check(params, batch);
      tf.tidy(() => setParameters(params));
      let lossSum = 0;
      let correct = 0;
      for (let start = 0; start < batch.size; start += EVAL_CHUNK) {
        const end = Math.min(batch.size, start + EVAL_CHUNK);
        const sums = tf.tidy(() => {
          const { losses, out, labels } = forward(batch, start, end, false);
          const hits = labels === undefined
            ? tf.scalar(0)
            : tf.sum(tf.cast(tf.equal(tf.argMax(out, 1), labels), "float32"));
          return tf.stack([tf.sum(losses), hits]);
        });
        try {
          const [loss, hits] = await sums.data();
          lossSum += loss!;
          correct += hits!;
        } finally {
          sums.dispose();
        }
      }
      return {
        loss: lossSum / batch.size,
        accuracy: output === "values" ? null : correct / batch.size,
      };
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      model.dispose();
    },
  };
}
