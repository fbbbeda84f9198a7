/**
 * The model slot: one file per kind, and the table that assembles them. Adding a model is its
 * file, its `export *` line, a line in the union and a row in the table below (`deno check` fails until both agree).
 *
 * @module
 */

import type { ModelDefinition } from "../kind.ts";
import { cnnKind, type CnnNode } from "./cnn.ts";
import { customModelKind, type CustomModelNode } from "./custom.ts";
import { linearKind, type LinearNode } from "./linear.ts";
import { logisticKind, type LogisticNode } from "./logistic.ts";
import { mlpKind, type MlpNode } from "./mlp.ts";
import { transformerKind, type TransformerNode } from "./transformer.ts";

export * from "./cnn.ts";
export * from "./custom.ts";
export * from "./linear.ts";
export * from "./logistic.ts";
export * from "./mlp.ts";
export * from "./transformer.ts";

/** Any model node. */
export type ModelNode =
  | LinearNode
  | LogisticNode
  | MlpNode
  | CnnNode
  | TransformerNode
  | CustomModelNode;

/** Model kinds. */
export type ModelKind = ModelNode["kind"];

/** The model node of kind `K`. */
export type ModelNodeOf<K extends ModelKind> = Extract<ModelNode, { readonly kind: K }>;

/**
 * Every model kind's definition: schema, printed form, task, parameter count and checks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MODEL_KINDS } from "./mod.ts";
 * assert.equal(MODEL_KINDS.linear.task, "regression");
 * ```
 */
export const MODEL_KINDS: { readonly [K in ModelKind]: ModelDefinition<ModelNodeOf<K>> } = {
  linear: linearKind,
  logistic: logisticKind,
  mlp: mlpKind,
  cnn: cnnKind,
  transformer: transformerKind,
  custom: customModelKind,
};
