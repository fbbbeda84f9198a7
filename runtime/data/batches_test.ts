import assert from "node:assert/strict";
import { selectRows, shardWorkerData } from "./batches.ts";

/** A shard of `size` examples whose single feature and target are the example's index. */
function indexed(size: number) {
  const values = Float32Array.from({ length: size }, (_, i) => i);
  return { x: values, y: values.slice(), size };
}

Deno.test("batches visit every example once per epoch, in a fresh order each epoch", () => {
  const data = shardWorkerData({
    train: indexed(10),
    test: indexed(2),
    batchSize: 5,
    seed: 1,
    rank: 0,
  });
  assert.equal(data.shardSize, 10);
  const epoch = (e: number) => [...data.batch(2 * e).y, ...data.batch(2 * e + 1).y];
  for (const e of [0, 1, 2]) {
    assert.deepEqual(epoch(e).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  }
  assert.notDeepEqual(epoch(0), epoch(1));
  const batch = data.batch(3);
  assert.deepEqual([...batch.x], [...batch.y]); // inputs and targets stay paired
});

Deno.test("batch(k) is random access and deterministic in (seed, rank, k)", () => {
  const make = (seed: number, rank: number) =>
    shardWorkerData({ train: indexed(7), test: indexed(1), batchSize: 3, seed, rank });
  const a = make(5, 1);
  const forward = Array.from({ length: 12 }, (_, k) => [...a.batch(k).y]);
  const b = make(5, 1);
  const backward = Array.from({ length: 12 }, (_, k) => [...b.batch(11 - k).y]).reverse();
  assert.deepEqual(forward, backward);
  assert.notDeepEqual(forward, Array.from({ length: 12 }, (_, k) => [...make(5, 2).batch(k).y]));
  assert.notDeepEqual(forward, Array.from({ length: 12 }, (_, k) => [...make(6, 1).batch(k).y]));
  // The batch crossing the epoch boundary (positions 6, 7, 8) starts with epoch 0's last example.
  const seen = new Set([...forward[0]!, ...forward[1]!]);
  const missing = [0, 1, 2, 3, 4, 5, 6].filter((i) => !seen.has(i));
  assert.deepEqual([forward[2]![0]], missing);
});

Deno.test("a batch larger than the shard spans epochs; bad arguments fail", () => {
  const data = shardWorkerData({
    train: indexed(3),
    test: indexed(1),
    batchSize: 7,
    seed: 1,
    rank: 0,
  });
  const batch = data.batch(0);
  assert.equal(batch.size, 7);
  assert.deepEqual([...batch.y.subarray(0, 3)].sort(), [0, 1, 2]);
  assert.throws(() => data.batch(-1), RangeError);
  assert.throws(
    () => shardWorkerData({ train: indexed(0), test: indexed(1), batchSize: 1, seed: 1, rank: 0 }),
    RangeError,
  );
  assert.throws(
    () => shardWorkerData({ train: indexed(3), test: indexed(1), batchSize: 0, seed: 1, rank: 0 }),
    RangeError,
  );
});

Deno.test("selectRows gathers rows in order", () => {
  const rows = selectRows({
    x: new Float32Array([1, 2, 3, 4, 5, 6]),
    y: new Float32Array([7, 8, 9]),
    size: 3,
  }, [2, 0]);
  assert.deepEqual(rows, {
    x: new Float32Array([5, 6, 1, 2]),
    y: new Float32Array([9, 7]),
    size: 2,
  });
  assert.throws(() => selectRows(rows, [2]), RangeError);
});
