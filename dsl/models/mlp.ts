/**
 * `mlp()`: a multi-layer perceptron for classification.
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { type Activation, activation, integer } from "../fields.ts";
import { buildNode, type ModelDefinition, type OptionNames } from "../kind.ts";
import { denseParameters, denseVariables } from "./_dense.ts";

/** Multi-layer perceptron with the given hidden layer widths. */
export interface MlpNode {
  /** Node kind, named after the DSL factory `mlp()`. */
  readonly kind: "mlp";
  /** Widths of the hidden layers, input side first; empty for none. */
  readonly hidden: readonly number[];
  /** Activation of every hidden layer. */
  readonly activation: Activation;
}

/** Options of {@linkcode mlp}. */
export interface MlpOptions {
  /** Widths of the hidden layers, e.g. `[128]` or `[256, 128]`. */
  readonly hidden: readonly number[];
  /** Activation of the hidden layers (default `"relu"`). */
  readonly activation?: Activation;
}

const OPTIONS: OptionNames<MlpOptions> = { hidden: true, activation: true };

/**
 * A multi-layer perceptron for classification.
 *
 * @param options Hidden layer widths and activation.
 * @returns An `mlp` model node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mlp } from "./mlp.ts";
 * assert.ok(mlp({ hidden: [128] }).activation === "relu");
 * ```
 */
export function mlp(options: MlpOptions): MlpNode {
  return buildNode(
    { kind: "mlp", hidden: [...options.hidden], activation: options.activation ?? "relu" },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `mlp`. */
export const mlpKind: ModelDefinition<MlpNode> = {
  schema: v.strictObject({ kind: v.literal("mlp"), hidden: v.array(integer(1)), activation }),
  form: { make: mlp, required: ["hidden"] },
  task: "classification",
  parameters: (node, data) =>
    data.features === null || data.classes === null
      ? null
      : denseParameters([data.features, ...node.hidden, data.classes]),
  variables: (node, data) =>
    data.features === null || data.classes === null
      ? null
      : denseVariables([data.features, ...node.hidden, data.classes]),
};
