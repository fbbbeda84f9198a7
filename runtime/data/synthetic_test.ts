import assert from "node:assert/strict";
import { synthetic } from "../../dsl/data/mod.ts";
import { syntheticDistribution, syntheticShard, syntheticTest } from "./synthetic.ts";

/** Mean of each feature over a shard. */
function featureMeans(x: Float32Array, size: number, features: number): number[] {
  const means = new Array(features).fill(0);
  for (let i = 0; i < size; i++) {
    for (let f = 0; f < features; f++) means[f] += x[i * features + f]! / size;
  }
  return means;
}

/** Distance between two vectors. */
function distance(a: readonly number[], b: readonly number[]): number {
  return Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0));
}

/** Class histogram of a shard, as fractions. */
function histogram(y: Float32Array, classes: number): number[] {
  const counts = new Array(classes).fill(0);
  for (const label of y) counts[label]++;
  return counts.map((c) => c / y.length);
}

Deno.test("synthetic shards: sizes, determinism, labels in range", () => {
  const node = synthetic({ features: 8, classes: 4, trainSize: 103, testSize: 20 });
  const sizes = [0, 1, 2].map((rank) => syntheticShard(node, { seed: 1, workers: 3, rank }).size);
  assert.deepEqual(sizes, [35, 34, 34]);
  const a = syntheticShard(node, { seed: 1, workers: 3, rank: 2 });
  assert.deepEqual(a, syntheticShard(node, { seed: 1, workers: 3, rank: 2 }));
  assert.notDeepEqual(a, syntheticShard(node, { seed: 2, workers: 3, rank: 2 }));
  assert.ok(a.y.every((label) => Number.isInteger(label) && label >= 0 && label < 4));
  assert.equal(a.x.length, 34 * 8);
  const test = syntheticTest(node, { seed: 1, workers: 3 });
  assert.equal(test.size, 20);
  assert.deepEqual(test, syntheticTest(node, { seed: 1, workers: 3 }));
  assert.throws(() => syntheticShard(node, { seed: 1, workers: 3, rank: 3 }), RangeError);
});

Deno.test("synthetic heterogeneity 0 gives one distribution, 1 shifts each worker's", () => {
  const features = 8;
  const shards = (heterogeneity: number) =>
    [0, 1].map((rank) =>
      syntheticShard(
        synthetic({ features, classes: 4, trainSize: 4000, heterogeneity, noise: 0 }),
        { seed: 7, workers: 2, rank },
      )
    );
  const [a0, b0] = shards(0);
  const [a1, b1] = shards(1);
  const meanGap = (a: typeof a0, b: typeof a0) =>
    distance(featureMeans(a!.x, a!.size, features), featureMeans(b!.x, b!.size, features));
  const labelGap = (a: typeof a0, b: typeof a0) => distance(histogram(a!.y, 4), histogram(b!.y, 4));
  assert.ok(meanGap(a0, b0) < 0.2, `h=0 mean gap ${meanGap(a0, b0)}`);
  assert.ok(meanGap(a1, b1) > 2, `h=1 mean gap ${meanGap(a1, b1)}`);
  assert.ok(labelGap(a0, b0) < 0.08, `h=0 label gap ${labelGap(a0, b0)}`);
  assert.ok(labelGap(a1, b1) > 0.2, `h=1 label gap ${labelGap(a1, b1)}`);
  // Teachers: identical at h = 0, different at h = 1.
  const node = (heterogeneity: number) => synthetic({ features, classes: 4, heterogeneity });
  assert.deepEqual(
    syntheticDistribution(node(0), 7, 0).teacher,
    syntheticDistribution(node(0), 7, 1).teacher,
  );
  assert.notDeepEqual(
    syntheticDistribution(node(1), 7, 0).teacher,
    syntheticDistribution(node(1), 7, 1).teacher,
  );
});

Deno.test("synthetic noise flips labels and adds regression noise", () => {
  const base = { features: 6, classes: 3, trainSize: 2000, heterogeneity: 0 };
  const flipRate = (noise: number) => {
    const node = synthetic({ ...base, noise });
    const shard = syntheticShard(node, { seed: 3, workers: 1, rank: 0 });
    const teacher = syntheticDistribution(node, 3, 0).teacher;
    let flipped = 0;
    for (let i = 0; i < shard.size; i++) {
      const scores = [0, 1, 2].map((o) => {
        let s = 0;
        for (let f = 0; f < 6; f++) s += teacher[o * 6 + f]! * shard.x[i * 6 + f]!;
        return s;
      });
      if (scores.indexOf(Math.max(...scores)) !== shard.y[i]) flipped++;
    }
    return flipped / shard.size;
  };
  assert.equal(flipRate(0), 0);
  assert.ok(Math.abs(flipRate(0.3) - 0.3) < 0.04, `flip rate ${flipRate(0.3)}`);
  const regression = synthetic({ task: "regression", features: 6, trainSize: 2000, noise: 0.5 });
  const shard = syntheticShard(regression, { seed: 3, workers: 1, rank: 0 });
  const w = syntheticDistribution(regression, 3, 0).teacher;
  let sq = 0;
  for (let i = 0; i < shard.size; i++) {
    let pred = 0;
    for (let f = 0; f < 6; f++) pred += w[f]! * shard.x[i * 6 + f]!;
    sq += (shard.y[i]! - pred) ** 2;
  }
  assert.ok(
    Math.abs(Math.sqrt(sq / shard.size) - 0.5) < 0.05,
    `noise std ${Math.sqrt(sq / shard.size)}`,
  );
});
