/**
 * `synthetic()`: generated data from a seeded teacher model.
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { integer, nonNegative, probability } from "../fields.ts";
import { buildNode, type DataDefinition, type OptionNames } from "../kind.ts";
import { type SampledDataOptions, trainSizeIssues } from "./_sampled.ts";

/** Generated data: a seeded teacher model, with per-worker shifts controlled by `heterogeneity`. */
export interface SyntheticNode {
  /** Node kind, named after the DSL factory `synthetic()`. */
  readonly kind: "synthetic";
  /** `"classification"` (softmax over `classes`) or `"regression"` (one real output). */
  readonly task: "classification" | "regression";
  /** Input features per example. */
  readonly features: number;
  /** Number of classes (classification); 1 for regression. */
  readonly classes: number;
  /** Training examples in all, split across workers. */
  readonly trainSize: number;
  /** Held-out examples for evaluation. */
  readonly testSize: number;
  /** Mini-batch size per worker and step. */
  readonly batchSize: number;
  /** 0 = every worker draws from one distribution; 1 = strongly shifted per-worker data. */
  readonly heterogeneity: number;
  /** Label noise (classification: flip probability; regression: noise standard deviation). */
  readonly noise: number;
  /** Data seed; `null` uses the plan seed. */
  readonly seed: number | null;
}

/** Options of {@linkcode synthetic}. */
export interface SyntheticOptions extends SampledDataOptions {
  /** `"classification"` (default) or `"regression"`. */
  readonly task?: "classification" | "regression";
  /** Input features (default 32). */
  readonly features?: number;
  /** Classes for classification (default 10); regression always has one output. */
  readonly classes?: number;
  /** 0 (default): one distribution for all; up to 1: each worker's data strongly shifted. */
  readonly heterogeneity?: number;
  /** Label noise: flip probability (classification) or noise deviation (regression). */
  readonly noise?: number;
  /** Data seed; by default the plan seed. */
  readonly seed?: number;
}

const OPTIONS: OptionNames<SyntheticOptions> = {
  task: true,
  features: true,
  classes: true,
  trainSize: true,
  testSize: true,
  batchSize: true,
  heterogeneity: true,
  noise: true,
  seed: true,
};

/**
 * Generated data: a seeded random teacher labels Gaussian inputs. `heterogeneity` shifts each
 * worker's inputs and teacher, the knob for studying non-iid training. Generated on the fly,
 * never shipped.
 *
 * @param options Task, sizes, heterogeneity, noise and seed.
 * @returns A `synthetic` data node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { synthetic } from "./synthetic.ts";
 * const data = synthetic({ task: "regression", features: 8 });
 * assert.ok(data.classes === 1);
 * ```
 */
export function synthetic(options: SyntheticOptions = {}): SyntheticNode {
  const task = options.task ?? "classification";
  return buildNode(
    {
      kind: "synthetic",
      task,
      features: options.features ?? 32,
      classes: task === "regression" ? 1 : options.classes ?? 10,
      trainSize: options.trainSize ?? 4096,
      testSize: options.testSize ?? 1024,
      batchSize: options.batchSize ?? 32,
      heterogeneity: options.heterogeneity ?? 0,
      noise: options.noise ?? 0.05,
      seed: options.seed ?? null,
    },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `synthetic`. */
export const syntheticKind: DataDefinition<SyntheticNode> = {
  schema: v.strictObject({
    kind: v.literal("synthetic"),
    task: v.picklist(["classification", "regression"]),
    features: integer(1),
    classes: integer(1),
    trainSize: integer(1),
    testSize: integer(1),
    batchSize: integer(1),
    heterogeneity: probability,
    noise: nonNegative,
    seed: v.nullable(integer(0, 2 ** 32 - 1)),
  }),
  form: { make: synthetic, context: ["task"] },
  shape: (node) => ({
    task: node.task,
    features: node.features,
    classes: node.task === "regression" ? 1 : node.classes,
    image: null,
  }),
  check: (node, { workers }) => [
    ...trainSizeIssues(node.trainSize, workers),
    ...(node.task === "classification" && node.classes < 2
      ? [{
        path: "classes",
        message: "classification needs at least 2 classes",
        expected: "at least 2",
        received: node.classes,
      }]
      : []),
  ],
};
