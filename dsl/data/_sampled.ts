/**
 * What the sampled data sets (drawn in mini-batches from a training set split across workers)
 * share: their size options and the check that every worker gets data.
 *
 * @module
 */

import type { NodeIssue } from "../kind.ts";

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
 * Every worker needs at least one training example.
 *
 * @param trainSize Training examples in all.
 * @param workers Workers.
 * @returns An issue at `trainSize`, or none.
 */
export function trainSizeIssues(trainSize: number, workers: number): NodeIssue[] {
  return trainSize >= workers ? [] : [{
    path: "trainSize",
    message:
      `trainSize ${trainSize} is smaller than workers ${workers}: some workers would get no data`,
    expected: `at least ${workers}`,
    received: trainSize,
  }];
}
