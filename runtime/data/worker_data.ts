/**
 * Turns a plan's data node into one worker's {@linkcode WorkerData}, through a dispatch table
 * keyed by the node's `kind`.
 *
 * - `mnist`: the seeded train/test split of the package's digits ({@linkcode splitMnist}), the
 *   training set partitioned across workers by the node's partition with the stream
 *   `(plan.seed, "partition")`, and mini-batches from per-epoch seeded shuffles of the shard.
 * - `synthetic`: the worker's generated shard and the shared generated test set (seed
 *   `node.seed ?? plan.seed`), with the same kind of mini-batches.
 * - `leastSquares`: the worker's full shard at every step.
 * - `tensors`: the user's arrays read from files (`tensors.ts`), split into train and test when
 *   no test file is given, and partitioned and batched as MNIST is.
 * - `text`: seeded windows of the model's context from the worker's share of the training tokens,
 *   and the validation windows (`text.ts`).
 *
 * Mini-batch order depends only on `(plan.seed, rank, k)` (see `batches.ts`); labels are class
 * indices stored as floats in `y`; the test set is the same on every worker.
 *
 * @module
 */

import type {
  DataKind,
  DataNode,
  MnistNode,
  Plan,
  SyntheticNode,
  TextNode,
} from "../../dsl/plan.ts";
import { modelContext } from "../../dsl/shapes.ts";
import type { Batch, WorkerData } from "./types.ts";
import { randomStream } from "../random.ts";
import { shardWorkerData } from "./batches.ts";
import { loadLeastSquaresData } from "./least_squares.ts";
import { loadMnist, MNIST_CLASSES, mnistBatch, splitMnist } from "./mnist.ts";
import { partition } from "./partition.ts";
import { syntheticShard, syntheticTest } from "./synthetic.ts";
import { loadTensorsData } from "./tensors.ts";
import { textTokens, textWorkerData } from "./text.ts";

/** Builds one worker's data from a data node of kind `K`. */
type DataLoader<K extends DataKind> = (
  node: Extract<DataNode, { kind: K }>,
  plan: Plan,
  rank: number,
) => Promise<WorkerData>;

/** The last MNIST test set built in this process, shared by the workers that run in it. */
let mnistTest: { key: string; batch: Batch } | null = null;

/** MNIST: split, partition, shard. */
async function loadMnistData(node: MnistNode, plan: Plan, rank: number): Promise<WorkerData> {
  const digits = await loadMnist();
  const split = splitMnist(digits, node, plan.seed);
  const labels = split.train.map((id) => digits.labels[id]!);
  const shards = partition(
    node.partition,
    labels,
    { workers: plan.workers, classes: MNIST_CLASSES },
    randomStream(plan.seed, "partition"),
  );
  const own = shards[rank]!.map((position) => split.train[position]!);
  const key = `${plan.seed}:${node.testSize}`;
  if (mnistTest?.key !== key) mnistTest = { key, batch: mnistBatch(digits, split.test) };
  return shardWorkerData({
    train: mnistBatch(digits, own),
    test: mnistTest.batch,
    batchSize: node.batchSize,
    seed: plan.seed,
    rank,
  });
}

/** Synthetic: generate the worker's shard and the shared test set. */
function loadSyntheticData(node: SyntheticNode, plan: Plan, rank: number): Promise<WorkerData> {
  const seed = node.seed ?? plan.seed;
  return Promise.resolve(shardWorkerData({
    train: syntheticShard(node, { seed, workers: plan.workers, rank }),
    test: syntheticTest(node, { seed, workers: plan.workers }),
    batchSize: node.batchSize,
    seed: plan.seed,
    rank,
  }));
}

/** The last text evaluation windows built in this process, shared by the workers in it. */
let textTest: { key: string; batch: Batch } | null = null;

/** Text: the tokens, the worker's shard of random windows, the validation windows. */
async function loadTextData(node: TextNode, plan: Plan, rank: number): Promise<WorkerData> {
  const context = modelContext(plan.model);
  if (context === null) {
    throw new RangeError(`text data needs a model with a context length, not ${plan.model.kind}`);
  }
  const tokens = await textTokens(node);
  const key = `${node.tokenizer}:${node.file ?? ""}:${node.validation}:${context}`;
  const data = textWorkerData(tokens, {
    node,
    context,
    workers: plan.workers,
    rank,
    seed: plan.seed,
    ...(textTest?.key === key ? { test: textTest.batch } : {}),
  });
  textTest = { key, batch: data.test };
  return data;
}

/** One loader per data kind; a new kind without a loader fails to compile. */
const LOADERS: { readonly [K in DataKind]: DataLoader<K> } = {
  mnist: loadMnistData,
  synthetic: loadSyntheticData,
  leastSquares: (node, plan, rank) => loadLeastSquaresData(node, rank, plan.workers),
  tensors: loadTensorsData,
  text: loadTextData,
};

/**
 * Loads worker `rank`'s training data and the shared test set for a plan.
 *
 * @param plan A valid plan.
 * @param rank The worker, `0..plan.workers-1`.
 * @returns The worker's data: deterministic batches per step, and the test set.
 * @throws {RangeError} When the rank is out of range or the data cannot be split as asked.
 * @throws {LeastSquaresFileError} When a least-squares file is unreadable or malformed.
 * @throws {TensorsFileError} When a `tensors` file is unreadable, malformed or holds values the
 *   task does not accept.
 * @throws {TextDataError} When a text file is unreadable, not UTF-8, or too short to evaluate.
 * @throws {TextShardError} When the worker's share of a text is shorter than one window.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadWorkerData } from "./worker_data.ts";
 * import { linear, synthetic, train, allReduce, sgd } from "../../mod.ts";
 * const plan = train(linear({ dim: 4 }))
 *   .data(synthetic({ task: "regression", features: 4, trainSize: 64, testSize: 16 }))
 *   .workers(2).optimizer(sgd({ lr: 0.1 })).base(allReduce()).steps(10).compile();
 * const data = await loadWorkerData(plan, 1);
 * assert.ok(data.shardSize === 32 && data.batch(0).size === 32 && data.test.size === 16);
 * ```
 */
export function loadWorkerData(plan: Plan, rank: number): Promise<WorkerData> {
  if (!Number.isInteger(rank) || rank < 0 || rank >= plan.workers) {
    return Promise.reject(new RangeError(`Rank ${rank} is outside 0..${plan.workers - 1}`));
  }
  const loader = LOADERS[plan.data.kind] as DataLoader<DataKind>;
  return loader(plan.data, plan, rank);
}
