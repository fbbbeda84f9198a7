import assert from "node:assert/strict";
import { loadMnist, MNIST_FEATURES, mnistBatch, splitMnist } from "./mnist.ts";

Deno.test("mnist loads 10,000 28×28 digits in [0, 1] with labels 0..9 in class order", async () => {
  const digits = await loadMnist();
  assert.equal(digits, await loadMnist()); // loaded once
  assert.equal(digits.count, 10000);
  assert.equal(MNIST_FEATURES, 28 * 28);
  const counts = new Array(10).fill(0);
  let previous = 0;
  for (const label of digits.labels) {
    assert.ok(label >= previous && label <= 9);
    previous = label;
    counts[label]++;
  }
  assert.ok(counts.every((c) => c > 800), `class counts ${counts}`);
  const batch = mnistBatch(digits, [0, 4321, 9999]);
  assert.equal(batch.size, 3);
  assert.equal(batch.x.length, 3 * 784);
  assert.ok(batch.x.every((v) => v >= 0 && v <= 1));
  assert.ok(batch.x.some((v) => v > 0.5)); // there is ink
  assert.deepEqual([...batch.y], [0, digits.labels[4321], 9]);
  assert.throws(() => mnistBatch(digits, [10000]), RangeError);
});

Deno.test("mnist split: disjoint, deterministic per seed, test independent of trainSize", async () => {
  const digits = await loadMnist();
  const split = splitMnist(digits, { trainSize: 8000, testSize: 2000 }, 42);
  assert.equal(split.train.length, 8000);
  assert.equal(split.test.length, 2000);
  const train = new Set(split.train);
  assert.equal(train.size, 8000);
  assert.ok(split.test.every((id) => !train.has(id)));
  assert.deepEqual(split, splitMnist(digits, { trainSize: 8000, testSize: 2000 }, 42));
  assert.notDeepEqual(split.test, splitMnist(digits, { trainSize: 8000, testSize: 2000 }, 43).test);
  assert.deepEqual(splitMnist(digits, { trainSize: 100, testSize: 2000 }, 42).test, split.test);
  // Both sets cover every class.
  for (const ids of [split.train, split.test]) {
    assert.equal(new Set([...ids].map((id) => digits.labels[id])).size, 10);
  }
  assert.throws(() => splitMnist(digits, { trainSize: 9000, testSize: 2000 }, 1), RangeError);
});
