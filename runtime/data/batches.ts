/**
 * Mini-batches from an in-memory shard, deterministic in `(seed, rank, k)`.
 *
 * The shard is read as an endless stream of epochs; epoch `e` visits the shard in the order of
 * the permutation drawn from `randomStream(seed, "batches", rank, e)`. The batch of step `k` is
 * positions `k·B … k·B + B − 1` of that stream, so a batch that crosses an epoch boundary takes
 * the end of one epoch and the start of the next, every example is seen once per epoch, and a
 * batch size larger than the shard simply spans several epochs. `batch(k)` is random access: it
 * gives the same batch whatever was asked before (the last two epoch orders are cached).
 *
 * @module
 */

import type { Batch, WorkerData } from "./types.ts";
import { randomStream } from "../random.ts";

/** A shard of examples held in memory, row-major. */
export interface Examples {
  /** Inputs, `size × features` values. */
  readonly x: Float32Array;
  /** One target per example. */
  readonly y: Float32Array;
  /** Number of examples. */
  readonly size: number;
}

/**
 * A worker's shard holds no training examples. A range error like the other refusals here, and
 * its message names the worker, so the worker reports it as it is.
 */
export class EmptyShardError extends RangeError {
  /** @param rank The worker whose shard is empty. */
  constructor(readonly rank: number) {
    super(`Worker ${rank} has no training examples`);
  }
}

/** Options of {@linkcode shardWorkerData}. */
export interface ShardWorkerDataOptions {
  /** This worker's training examples. */
  readonly train: Examples;
  /** The shared test set. */
  readonly test: Batch;
  /** Examples per step. */
  readonly batchSize: number;
  /** The batch-order seed (the plan seed). */
  readonly seed: number;
  /** This worker's rank. */
  readonly rank: number;
}

/**
 * Wraps an in-memory shard as a {@linkcode WorkerData} whose step-`k` batches follow per-epoch
 * seeded shuffles (see the module notes). Each call to `batch` returns fresh arrays.
 *
 * @param options The shard, test set, batch size, seed and rank.
 * @returns The worker's data.
 * @throws {EmptyShardError} When the shard is empty.
 * @throws {RangeError} When the batch size is not a positive integer, or
 *   `x` does not hold a whole number of rows.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shardWorkerData } from "./batches.ts";
 * const train = { x: new Float32Array([0, 1, 2, 3, 4, 5]), y: new Float32Array([0, 1, 2]), size: 3 };
 * const data = shardWorkerData({ train, test: train, batchSize: 2, seed: 1, rank: 0 });
 * const first = data.batch(0);
 * assert.ok(first.size === 2 && first.x.length === 4);
 * assert.ok(data.batch(0).y.join() === first.y.join());
 * ```
 */
export function shardWorkerData(options: ShardWorkerDataOptions): WorkerData {
  const { train, test, batchSize, seed, rank } = options;
  const size = train.size;
  if (!Number.isInteger(size) || size < 1) {
    throw new EmptyShardError(rank);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`Batch size must be a positive integer: ${batchSize}`);
  }
  const features = train.x.length / size;
  if (!Number.isInteger(features) || train.y.length !== size) {
    throw new RangeError(
      `Shard of ${size} examples has ${train.x.length} input values and ${train.y.length} targets`,
    );
  }
  const orders = new Map<number, Uint32Array>();
  const order = (epoch: number): Uint32Array => {
    let found = orders.get(epoch);
    if (found === undefined) {
      found = randomStream(seed, "batches", rank, epoch).permutation(size);
      if (orders.size >= 2) orders.delete(orders.keys().next().value!);
      orders.set(epoch, found);
    }
    return found;
  };
  return {
    shardSize: size,
    test,
    batch(k: number): Batch {
      if (!Number.isInteger(k) || k < 0) {
        throw new RangeError(`Batch step must be a non-negative integer: ${k}`);
      }
      const x = new Float32Array(batchSize * features);
      const y = new Float32Array(batchSize);
      const first = k * batchSize;
      for (let i = 0; i < batchSize; i++) {
        const position = first + i;
        const example = order(Math.floor(position / size))[position % size]!;
        x.set(train.x.subarray(example * features, (example + 1) * features), i * features);
        y[i] = train.y[example]!;
      }
      return { x, y, size: batchSize };
    },
  };
}

/**
 * Gathers rows of an example set into a new one.
 *
 * @param examples The source.
 * @param rows The row indices, in output order.
 * @returns The selected examples.
 * @throws {RangeError} When a row is out of range.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectRows } from "./batches.ts";
 * const all = { x: new Float32Array([1, 2, 3, 4]), y: new Float32Array([0, 1]), size: 2 };
 * assert.ok(selectRows(all, [1]).x.join() === "3,4");
 * ```
 */
export function selectRows(examples: Examples, rows: ArrayLike<number>): Examples {
  const features = examples.x.length / examples.size;
  const x = new Float32Array(rows.length * features);
  const y = new Float32Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (!(row >= 0 && row < examples.size)) {
      throw new RangeError(`Row ${row} is outside 0..${examples.size - 1}`);
    }
    x.set(examples.x.subarray(row * features, (row + 1) * features), i * features);
    y[i] = examples.y[row]!;
  }
  return { x, y, size: rows.length };
}
