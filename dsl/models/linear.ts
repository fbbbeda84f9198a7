/**
 * `linear()`: a weight vector without bias, for regression and the deterministic least-squares
 * problem.
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { integer } from "../fields.ts";
import { buildNode, type ModelDefinition, type OptionNames } from "../kind.ts";

/** A weight vector of `dim` values without bias, predicting `a·x` (regression only). */
export interface LinearNode {
  /** Node kind, named after the DSL factory `linear()`. */
  readonly kind: "linear";
  /** Number of weights, one per input feature (≥ 1). */
  readonly dim: number;
  /** `"zeros"` or `"random"` (seeded from the plan seed). */
  readonly init: "zeros" | "random";
}

/** Options of {@linkcode linear}. */
export interface LinearOptions {
  /** Number of weights (the number of columns of the data). */
  readonly dim: number;
  /** `"zeros"` (default) or `"random"`, seeded from the plan seed. */
  readonly init?: "zeros" | "random";
}

const OPTIONS: OptionNames<LinearOptions> = { dim: true, init: true };

/**
 * A linear model without bias, `a·x`, for regression and the deterministic least-squares
 * problem.
 *
 * @param options The dimension and initialisation.
 * @returns A `linear` model node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear } from "./linear.ts";
 * const model = linear({ dim: 3 });
 * assert.ok(model.init === "zeros");
 * ```
 */
export function linear(options: LinearOptions): LinearNode {
  return buildNode(
    { kind: "linear", dim: options.dim, init: options.init ?? "zeros" },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `linear`. */
export const linearKind: ModelDefinition<LinearNode> = {
  schema: v.strictObject({
    kind: v.literal("linear"),
    dim: integer(1),
    init: v.picklist(["zeros", "random"]),
  }),
  form: { make: linear, required: ["dim"] },
  task: "regression",
  parameters: (node) => node.dim,
  // One variable, the weight vector.
  variables: (node) => [node.dim],
  check: (node, { data }) =>
    data.features === null || node.dim === data.features ? [] : [{
      path: "dim",
      message: `linear dim ${node.dim} does not match the data's ${data.features} features`,
      expected: String(data.features),
      received: node.dim,
    }],
};
