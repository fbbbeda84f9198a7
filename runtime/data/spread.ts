/**
 * `reshard: "spread"` for elastic runs: the data of workers that have left is shared out among
 * the live workers, so the survivors go on minimising the loss over every shard instead of over
 * their own only.
 *
 * @module
 */

import type { Batch, WorkerData } from "./types.ts";

/**
 * The rows `from … to − 1` of a batch (an example is `x.length / size` inputs and
 * `y.length / size` targets).
 */
function rows(batch: Batch, from: number, to: number): Batch {
  const xWidth = batch.size === 0 ? 0 : batch.x.length / batch.size;
  const yWidth = batch.size === 0 ? 0 : batch.y.length / batch.size;
  return {
    x: batch.x.subarray(from * xWidth, to * xWidth),
    y: batch.y.subarray(from * yWidth, to * yWidth),
    size: to - from,
  };
}

/** The batches one after the other, in a fresh batch. */
function concatenated(batches: readonly Batch[]): Batch {
  const x = new Float32Array(batches.reduce((sum, batch) => sum + batch.x.length, 0));
  const y = new Float32Array(batches.reduce((sum, batch) => sum + batch.y.length, 0));
  let xAt = 0;
  let yAt = 0;
  for (const batch of batches) {
    x.set(batch.x, xAt);
    y.set(batch.y, yAt);
    xAt += batch.x.length;
    yAt += batch.y.length;
  }
  return { x, y, size: batches.reduce((sum, batch) => sum + batch.size, 0) };
}

/**
 * One live worker's data in an elastic run with `reshard: "spread"`: at step `k` its own batch,
 * followed by its part of the step-`k` batch of every worker not live at `k`, in the lost
 * workers' rank order. A lost worker's batch of `B` examples is cut into contiguous parts, one
 * per live worker in rank order: the live worker at position `p` of `m` takes the examples
 * `⌊p·B/m⌋ … ⌊(p+1)·B/m⌋ − 1`. Every worker computes the same cut from the plan, so each lost
 * example is used by exactly one survivor at each step, and nothing is sent.
 *
 * @param rank This worker.
 * @param data Every worker's data, by rank (this worker's own among them).
 * @param liveAt The live workers at each step index (from 0), ascending.
 * @returns This worker's data with the lost shards' parts added.
 * @example Worker 2 of 4 left: its 3 examples go one to each survivor
 * ```ts
 * import assert from "node:assert/strict";
 * import { spreadData } from "./spread.ts";
 *
 * const shard = (rank: number) => ({
 *   shardSize: 3,
 *   batch: () => ({ x: Float32Array.of(rank, rank, rank), y: Float32Array.of(0, 1, 2), size: 3 }),
 *   test: { x: new Float32Array(0), y: new Float32Array(0), size: 0 },
 * });
 * const data = [0, 1, 2, 3].map(shard);
 * const spread = spreadData(3, data, (k) => k < 5 ? [0, 1, 2, 3] : [0, 1, 3]);
 * assert.deepEqual([...spread.batch(4).y], [0, 1, 2]);
 * assert.deepEqual([...spread.batch(5).x], [3, 3, 3, 2]);
 * assert.deepEqual([...spread.batch(5).y], [0, 1, 2, 2]);
 * ```
 */
export function spreadData(
  rank: number,
  data: readonly WorkerData[],
  liveAt: (k: number) => readonly number[],
): WorkerData {
  return spreadOver(rank, data.length, (worker) => data[worker]!, liveAt);
}

/**
 * The rule of {@linkcode spreadData}, over shards given by a function: the one place that says
 * which rows of which lost batches a live worker takes.
 */
function spreadOver(
  rank: number,
  world: number,
  shard: (worker: number) => WorkerData,
  liveAt: (k: number) => readonly number[],
): WorkerData {
  const own = shard(rank);
  return {
    shardSize: own.shardSize,
    test: own.test,
    batch(k) {
      const live = liveAt(k);
      const mine = own.batch(k);
      if (live.length === world) return mine;
      const position = live.indexOf(rank);
      // Each part is copied as soon as it is taken: a loader may reuse its batch's buffers.
      const parts = [concatenated([mine])];
      for (let worker = 0; worker < world; worker++) {
        if (live.includes(worker)) continue;
        const batch = shard(worker).batch(k);
        const cut = (p: number) => Math.floor(p * batch.size / live.length);
        parts.push(concatenated([rows(batch, cut(position), cut(position + 1))]));
      }
      return concatenated(parts);
    },
  };
}

/** A worker's spread data whose lost shards are loaded when the membership needs them. */
export interface LazySpreadData extends WorkerData {
  /**
   * Loads the shards of the workers not among the current members that are not loaded yet.
   * Call it after every change of members, before the next batch.
   */
  prepare(): Promise<void>;
}

/**
 * {@linkcode spreadData} for a worker that holds only its own shard and learns the membership as
 * the run goes (elastic TCP runs: the live workers are its communicator's members from the
 * step the survivors went back to on). The shard of a worker first seen lost is loaded by
 * `load` in {@linkcode LazySpreadData.prepare}; the data is a function of the plan, so this
 * worker's copy gives the batches the lost worker would have had. A memory run that declares the
 * same members from the same step on gives the same batches, bit for bit.
 *
 * @param rank This worker.
 * @param world Workers in the run.
 * @param own This worker's shard.
 * @param load Loads a worker's shard (`loadWorkerData(plan, worker)`).
 * @param members The live workers now, ascending.
 * @returns This worker's data, with `prepare` to call after each change of members.
 * @throws From `batch`, when the members changed and `prepare` was not awaited since.
 * @example Worker 2 of 4 is lost: its shard is loaded once, and its rows shared out
 * ```ts
 * import assert from "node:assert/strict";
 * import { lazySpreadData } from "./spread.ts";
 *
 * const shard = (rank: number) => ({
 *   shardSize: 3,
 *   batch: () => ({ x: Float32Array.of(rank, rank, rank), y: Float32Array.of(0, 1, 2), size: 3 }),
 *   test: { x: new Float32Array(0), y: new Float32Array(0), size: 0 },
 * });
 * let members = [0, 1, 2, 3];
 * const loaded: number[] = [];
 * const load = (rank: number) => (loaded.push(rank), Promise.resolve(shard(rank)));
 * const data = lazySpreadData(3, 4, shard(3), load, () => members);
 * assert.deepEqual([...data.batch(0).x], [3, 3, 3]);
 * members = [0, 1, 3];
 * await data.prepare();
 * await data.prepare();
 * assert.deepEqual(loaded, [2]);
 * assert.deepEqual([...data.batch(1).x], [3, 3, 3, 2]);
 * assert.deepEqual([...data.batch(1).y], [0, 1, 2, 2]);
 * ```
 */
export function lazySpreadData(
  rank: number,
  world: number,
  own: WorkerData,
  load: (worker: number) => Promise<WorkerData>,
  members: () => readonly number[],
): LazySpreadData {
  const shards = new Map<number, WorkerData>([[rank, own]]);
  const shard = (worker: number) => {
    const found = shards.get(worker);
    if (found === undefined) {
      throw new Error(`worker ${worker}'s shard is needed for reshard "spread" but not loaded`);
    }
    return found;
  };
  return {
    ...spreadOver(rank, world, shard, () => members()),
    async prepare() {
      const live = members();
      for (let worker = 0; worker < world; worker++) {
        if (live.includes(worker) || shards.has(worker)) continue;
        shards.set(worker, await load(worker));
      }
    },
  };
}
