/**
 * Turns a plan's model node into a {@linkcode TrainableModel}, through a dispatch table keyed by
 * the node's `kind`: `linear` is plain JavaScript (TensorFlow.js is not even loaded), the others
 * are TensorFlow.js models (`tf_model.ts`, and `transformer.ts` for the language model, each
 * imported on first use).
 *
 * @module
 */

import type { ModelKind, ModelNode, Plan } from "../../dsl/plan.ts";
import { dataShape, parameterCount } from "../../dsl/shapes.ts";
import { selectBackend, selectedBackend } from "../backend.ts";
import type { DataShape } from "../../dsl/kind.ts";
import { readLeastSquares } from "../data/least_squares_file.ts";
import { tensorsShape } from "../data/tensors.ts";
import { linearModel } from "./linear_model.ts";
import type { TrainableModel } from "./types.ts";

/** Builds a model from a node of kind `K`. */
type ModelFactory<K extends ModelKind> = (
  node: Extract<ModelNode, { kind: K }>,
  plan: Plan,
  backendReady: Promise<unknown> | undefined,
) => Promise<TrainableModel>;

/** Waits for the caller's backend, or selects `auto` when nothing was selected yet. */
async function readyTf(backendReady: Promise<unknown> | undefined) {
  await backendReady;
  if (selectedBackend() === null) await selectBackend("auto");
  return await import("./tf_model.ts");
}

/**
 * The data's shape for building a model: the plan's, or for `tensors` data the one read from its
 * files (the plan knows neither the feature count nor, without `classes`, the class count).
 */
function shapeOf(plan: Plan): Promise<DataShape> {
  return plan.data.kind === "tensors"
    ? tensorsShape(plan.data)
    : Promise.resolve(dataShape(plan.data));
}

/** Checks a built model's size against `dsl/shapes.ts`. */
function checked(model: TrainableModel, plan: Plan): TrainableModel {
  const expected = parameterCount(plan.model, plan.data);
  if (expected !== null && expected !== model.parameterCount) {
    model.dispose();
    throw new Error(
      `The ${plan.model.kind} model has ${model.parameterCount} parameters but the plan expects ${expected}`,
    );
  }
  return model;
}

/** One factory per model kind; a new kind without a factory fails to compile. */
const FACTORIES: { readonly [K in ModelKind]: ModelFactory<K> } = {
  async linear(node, plan) {
    if (plan.data.kind === "leastSquares") {
      const { dim } = await readLeastSquares(plan.data.file);
      if (dim !== node.dim) {
        throw new Error(
          `Linear dim ${node.dim} does not match the ${dim} columns of A in "${plan.data.file}"`,
        );
      }
    } else {
      const shape = await shapeOf(plan);
      if (shape.task !== "regression") {
        throw new Error(`A linear model needs regression data but ${plan.data.kind} data is not`);
      }
      if (shape.features !== null && shape.features !== node.dim) {
        throw new Error(
          `Linear dim ${node.dim} does not match the data's ${shape.features} features`,
        );
      }
    }
    return linearModel({ dim: node.dim, init: node.init });
  },
  async logistic(node, plan, ready) {
    const tf = await readyTf(ready);
    const shape = await shapeOf(plan);
    // The validator compares these when the plan knows the data's sizes; a file tells them here.
    for (
      const [field, own, data] of [
        ["inputs", node.inputs, shape.features],
        ["classes", node.classes, shape.task === "regression" ? null : shape.classes],
      ] as const
    ) {
      if (own !== null && data !== null && own !== data) {
        throw new Error(
          `Logistic ${field} ${own} does not match the data's ${data} ${
            field === "inputs" ? "features" : "classes"
          }`,
        );
      }
    }
    return tf.tfTrainableModel(tf.buildTfModel(node, shape));
  },
  async mlp(node, plan, ready) {
    const tf = await readyTf(ready);
    return tf.tfTrainableModel(tf.buildTfModel(node, await shapeOf(plan)));
  },
  async cnn(node, plan, ready) {
    const tf = await readyTf(ready);
    return tf.tfTrainableModel(tf.buildTfModel(node, await shapeOf(plan)));
  },
  async transformer(node, plan, ready) {
    await readyTf(ready);
    const { createTransformerModel } = await import("./transformer.ts");
    const { classes } = await shapeOf(plan);
    if (classes === null) {
      throw new RangeError("Cannot build a transformer: the vocabulary is unknown");
    }
    return await createTransformerModel(node, classes);
  },
  async custom(node, plan, ready) {
    const tf = await readyTf(ready);
    const spec = await tf.loadCustomModel(node.module, node.export, await shapeOf(plan));
    return tf.tfTrainableModel(spec);
  },
};

/**
 * Builds the model of a plan as a {@linkcode TrainableModel} over flat float32 parameters, with
 * exactly `parameterCount(plan.model, plan.data)` parameters.
 *
 * TensorFlow.js models need a backend: pass the promise of the caller's `selectBackend` call as
 * `backendReady` (or call it before). When no backend was selected in this process or worker,
 * `auto` is selected here.
 *
 * @param plan A valid plan.
 * @param backendReady Resolves once the caller's backend is selected and ready.
 * @returns The model; call `dispose` when done.
 * @throws {Error} When the model does not fit the data, a custom module cannot build a model,
 *   or the parameter count disagrees with the plan's.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createModel } from "./create_model.ts";
 * import { selectBackend } from "../backend.ts";
 * import { allReduce, mlp, sgd, synthetic, train } from "../../mod.ts";
 * const plan = train(mlp({ hidden: [4] })).data(synthetic({ features: 3, classes: 2 }))
 *   .workers(2).optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
 * const model = await createModel(plan, selectBackend("cpu"));
 * assert.ok(model.parameterCount === 3 * 4 + 4 + 4 * 2 + 2);
 * model.dispose();
 * ```
 */
export async function createModel(
  plan: Plan,
  backendReady?: Promise<unknown>,
): Promise<TrainableModel> {
  const factory = FACTORIES[plan.model.kind] as ModelFactory<ModelKind>;
  return checked(await factory(plan.model, plan, backendReady), plan);
}
