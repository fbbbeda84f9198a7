/**
 * `logistic()`: multinomial logistic regression.
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { integer } from "../fields.ts";
import { buildNode, type ModelDefinition, type NodeIssue, type OptionNames } from "../kind.ts";
import { denseParameters, denseVariables } from "./_dense.ts";

/** Multinomial logistic regression; `null` sizes are taken from the data. */
export interface LogisticNode {
  /** Node kind, named after the DSL factory `logistic()`. */
  readonly kind: "logistic";
  /** Input features; `null` takes them from the data. */
  readonly inputs: number | null;
  /** Output classes (≥ 2); `null` takes them from the data. */
  readonly classes: number | null;
}

/** Options of {@linkcode logistic}. */
export interface LogisticOptions {
  /** Input features; by default the data's. */
  readonly inputs?: number;
  /** Output classes; by default the data's. */
  readonly classes?: number;
}

const OPTIONS: OptionNames<LogisticOptions> = { inputs: true, classes: true };

/**
 * Multinomial logistic regression (one dense softmax layer).
 *
 * @param options Input and class counts, each defaulting to the data's.
 * @returns A `logistic` model node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { logistic } from "./logistic.ts";
 * assert.ok(logistic({ classes: 10 }).inputs === null);
 * ```
 */
export function logistic(options: LogisticOptions = {}): LogisticNode {
  return buildNode(
    { kind: "logistic", inputs: options.inputs ?? null, classes: options.classes ?? null },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `logistic`. */
export const logisticKind: ModelDefinition<LogisticNode> = {
  schema: v.strictObject({
    kind: v.literal("logistic"),
    inputs: v.nullable(integer(1)),
    classes: v.nullable(integer(2)),
  }),
  form: { make: logistic },
  task: "classification",
  parameters: (node, data) => {
    const inputs = node.inputs ?? data.features;
    const classes = node.classes ?? data.classes;
    return inputs === null || classes === null ? null : denseParameters([inputs, classes]);
  },
  variables: (node, data) => {
    const inputs = node.inputs ?? data.features;
    const classes = node.classes ?? data.classes;
    return inputs === null || classes === null ? null : denseVariables([inputs, classes]);
  },
  check: (node, { data }) => {
    const issues: NodeIssue[] = [];
    if (node.inputs !== null && data.features !== null && node.inputs !== data.features) {
      issues.push({
        path: "inputs",
        message:
          `logistic inputs ${node.inputs} does not match the data's ${data.features} features`,
        expected: String(data.features),
        received: node.inputs,
      });
    }
    if (node.classes !== null && data.classes !== null && node.classes !== data.classes) {
      issues.push({
        path: "classes",
        message:
          `logistic classes ${node.classes} does not match the data's ${data.classes} classes`,
        expected: String(data.classes),
        received: node.classes,
      });
    }
    return issues;
  },
};
