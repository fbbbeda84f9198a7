/**
 * Shapes derived from a plan: what the data looks like and how many parameters the model has,
 * each read from the kind's own definition. The validator, the plan explanation and the runtime
 * all use these, so a model and its data are checked against each other once.
 *
 * @module
 */

import { DATA_KINDS, type DataNode } from "./data/mod.ts";
import type { DataDefinition, DataShape, ModelDefinition } from "./kind.ts";
import { MODEL_KINDS, type ModelNode } from "./models/mod.ts";

export type { DataShape };
export { cnnFeatureSide } from "./models/cnn.ts";

/**
 * The shape of a data node.
 *
 * @param data The data node.
 * @returns Task, features, classes and image shape.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dataShape } from "./shapes.ts";
 * import { mnist } from "./data/mod.ts";
 * assert.ok(dataShape(mnist()).features === 784);
 * ```
 */
export function dataShape(data: DataNode): DataShape {
  return (DATA_KINDS[data.kind] as DataDefinition<DataNode>).shape(data);
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
 * import { mlp } from "./models/mod.ts";
 * import { mnist } from "./data/mod.ts";
 * assert.ok(parameterCount(mlp({ hidden: [128] }), mnist()) === 784 * 128 + 128 + 128 * 10 + 10);
 * ```
 */
export function parameterCount(model: ModelNode, data: DataNode): number | null {
  return (MODEL_KINDS[model.kind] as ModelDefinition<ModelNode>).parameters(
    model,
    dataShape(data),
  );
}

/**
 * The sizes of a model's variables in the flat vector's order, on the plan's data.
 *
 * @param model The model node.
 * @param data The data node.
 * @returns The sizes, or `null` when only a file or module knows them (a custom model).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelVariables } from "./shapes.ts";
 * import { mlp } from "./models/mod.ts";
 * import { mnist } from "./data/mod.ts";
 * assert.deepEqual(modelVariables(mlp({ hidden: [16] }), mnist()), [784 * 16, 16, 16 * 10, 10]);
 * ```
 */
export function modelVariables(model: ModelNode, data: DataNode): readonly number[] | null {
  return (MODEL_KINDS[model.kind] as ModelDefinition<ModelNode>).variables(
    model,
    dataShape(data),
  );
}

/**
 * The context length of a model: the tokens per window a model of token sequences reads.
 *
 * @param model The model node.
 * @returns The context `T`, or `null` for models without one.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelContext } from "./shapes.ts";
 * import { mlp, transformer } from "./models/mod.ts";
 * assert.equal(modelContext(transformer({ layers: 1, dModel: 8, heads: 2, context: 16 })), 16);
 * assert.equal(modelContext(mlp({ hidden: [8] })), null);
 * ```
 */
export function modelContext(model: ModelNode): number | null {
  return (MODEL_KINDS[model.kind] as ModelDefinition<ModelNode>).context?.(model) ?? null;
}
