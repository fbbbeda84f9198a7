import assert from "node:assert/strict";
import { randomStream } from "../random.ts";
import {
  byLabelPartition,
  dirichletPartition,
  evenSizes,
  iidPartition,
  partition,
  roundProportions,
} from "./partition.ts";

const CLASSES = 10;
/** A balanced label list: 100 examples of each of 10 classes, interleaved. */
const LABELS = Array.from({ length: 1000 }, (_, i) => (i * 7) % CLASSES);

/** Asserts the shards are disjoint and returns their union's size. */
function assertDisjoint(shards: readonly Uint32Array[]): number {
  const seen = new Set<number>();
  for (const shard of shards) {
    for (const i of shard) {
      assert.ok(!seen.has(i), `position ${i} is in two shards`);
      seen.add(i);
    }
  }
  return seen.size;
}

/** Per-shard class counts. */
function classCounts(shard: Uint32Array): number[] {
  const counts = new Array(CLASSES).fill(0);
  for (const i of shard) counts[LABELS[i]!]++;
  return counts;
}

/** Classes needed to cover 90% of a shard. */
function classesFor90(shard: Uint32Array): number {
  const counts = classCounts(shard).sort((a, b) => b - a);
  let covered = 0;
  for (let i = 0; i < counts.length; i++) {
    covered += counts[i]!;
    if (covered >= 0.9 * shard.length) return i + 1;
  }
  return counts.length;
}

/** Share of a shard held by its most common class. */
function topShare(shard: Uint32Array): number {
  return Math.max(...classCounts(shard)) / shard.length;
}

Deno.test("even sizes and largest-remainder rounding", () => {
  assert.deepEqual(evenSizes(10, 4), [3, 3, 2, 2]);
  assert.deepEqual(evenSizes(3, 5), [1, 1, 1, 0, 0]);
  assert.deepEqual(roundProportions([0.5, 0.25, 0.25], 5), [3, 1, 1]);
  assert.deepEqual(roundProportions([0.1, 0.2, 0.7], 10), [1, 2, 7]);
  assert.equal(roundProportions([1 / 3, 1 / 3, 1 / 3], 7).reduce((a, b) => a + b), 7);
  assert.throws(() => evenSizes(5, 0), RangeError);
});

Deno.test("iid: sizes sum, disjoint, deterministic per seed, class-balanced", () => {
  const shards = iidPartition(LABELS.length, 8, randomStream(1, "partition"));
  assert.deepEqual(shards.map((s) => s.length), evenSizes(1000, 8));
  assert.equal(assertDisjoint(shards), 1000);
  assert.deepEqual(shards, iidPartition(LABELS.length, 8, randomStream(1, "partition")));
  assert.notDeepEqual(shards, iidPartition(LABELS.length, 8, randomStream(2, "partition")));
  for (const shard of shards) {
    for (const count of classCounts(shard)) assert.ok(count >= 4 && count <= 22, `count ${count}`);
    assert.deepEqual([...shard], [...shard].sort((a, b) => a - b));
  }
});

Deno.test("dirichlet: sizes sum, disjoint, deterministic, skewed for small alpha", () => {
  const options = { workers: 8, classes: CLASSES, alpha: 0.1 };
  const shards = dirichletPartition(LABELS, options, randomStream(3, "partition"));
  assert.equal(shards.reduce((n, s) => n + s.length, 0), 1000);
  assert.equal(assertDisjoint(shards), 1000);
  assert.deepEqual(shards, dirichletPartition(LABELS, options, randomStream(3, "partition")));
  // Most workers are dominated by a few classes (an iid shard needs 9 of 10 for 90%).
  const needed = shards.map(classesFor90);
  assert.ok(needed.filter((c) => c <= 3).length >= 4, `classes for 90%: ${needed}`);
  assert.ok(needed.reduce((a, b) => a + b) / needed.length < 4.5, `classes for 90%: ${needed}`);
  const iid = iidPartition(LABELS.length, 8, randomStream(3, "partition"));
  assert.ok(iid.every((s) => classesFor90(s) >= 8));
});

Deno.test("dirichlet: large alpha is close to iid", () => {
  const shards = dirichletPartition(
    LABELS,
    { workers: 4, classes: CLASSES, alpha: 1000 },
    randomStream(4, "partition"),
  );
  assert.equal(assertDisjoint(shards), 1000);
  for (const shard of shards) {
    assert.ok(Math.abs(shard.length - 250) < 20, `size ${shard.length}`);
    assert.ok(topShare(shard) < 0.14, `top share ${topShare(shard)}`);
  }
});

Deno.test("dirichlet: every worker gets at least one example, even when the draw leaves some empty", () => {
  const labels = Array.from({ length: 40 }, (_, i) => i % 2);
  for (let seed = 0; seed < 20; seed++) {
    const shards = dirichletPartition(
      labels,
      { workers: 30, classes: 2, alpha: 0.01 },
      randomStream(seed, "partition"),
    );
    assert.equal(assertDisjoint(shards), 40);
    assert.ok(shards.every((s) => s.length >= 1), `seed ${seed}: an empty worker`);
  }
});

Deno.test("byLabel: each worker sees exactly k classes and all classes are covered", () => {
  for (const [workers, k] of [[5, 2], [8, 2], [4, 3], [10, 1], [3, 10]] as const) {
    const options = { workers, classes: CLASSES, classesPerWorker: k };
    const shards = byLabelPartition(LABELS, options, randomStream(5, "partition"));
    assert.equal(assertDisjoint(shards), 1000, `${workers} workers, k ${k}`);
    for (const shard of shards) {
      assert.equal(classCounts(shard).filter((c) => c > 0).length, k);
    }
    assert.deepEqual(shards, byLabelPartition(LABELS, options, randomStream(5, "partition")));
  }
  // Too few workers to cover the classes: each still sees k classes, the rest is unused.
  const few = byLabelPartition(
    LABELS,
    { workers: 2, classes: CLASSES, classesPerWorker: 2 },
    randomStream(6, "partition"),
  );
  assert.equal(assertDisjoint(few), 400);
  assert.throws(
    () =>
      byLabelPartition(
        LABELS,
        { workers: 2, classes: CLASSES, classesPerWorker: 11 },
        randomStream(
          6,
          "p",
        ),
      ),
    RangeError,
  );
});

Deno.test("partition dispatches on the node kind", () => {
  const options = { workers: 4, classes: CLASSES };
  const random = () => randomStream(7, "partition");
  assert.deepEqual(
    partition({ kind: "iid" }, LABELS, options, random()),
    iidPartition(1000, 4, random()),
  );
  assert.deepEqual(
    partition({ kind: "dirichlet", alpha: 0.5 }, LABELS, options, random()),
    dirichletPartition(LABELS, { ...options, alpha: 0.5 }, random()),
  );
  assert.deepEqual(
    partition({ kind: "byLabel", classesPerWorker: 2 }, LABELS, options, random()),
    byLabelPartition(LABELS, { ...options, classesPerWorker: 2 }, random()),
  );
  assert.throws(() =>
    partition({ kind: "iid" }, [0, 11], options, random()).length >= 0 &&
    dirichletPartition([0, 11], { ...options, alpha: 1 }, random()), RangeError);
});
