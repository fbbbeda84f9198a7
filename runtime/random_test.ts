import assert from "node:assert/strict";
import { Random, randomStream } from "./random.ts";

/** Mean and variance of `n` draws. */
function moments(n: number, draw: () => number): { mean: number; variance: number } {
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < n; i++) {
    const x = draw();
    sum += x;
    sumSq += x * x;
  }
  const mean = sum / n;
  return { mean, variance: sumSq / n - mean * mean };
}

Deno.test("xoshiro128** matches the reference outputs for state [1, 2, 3, 4]", () => {
  const random = Random.fromState([1, 2, 3, 4]);
  const outputs = Array.from({ length: 5 }, () => random.nextUint32());
  assert.deepEqual(outputs, [11520, 0, 5927040, 70819200, 2031721883]);
  assert.throws(() => Random.fromState([0, 0, 0, 0]), RangeError);
});

Deno.test("streams are deterministic in their coordinates and differ across them", () => {
  const draw = (r: Random) => Array.from({ length: 8 }, () => r.nextUint32());
  assert.deepEqual(
    draw(randomStream(42, "batches", 3, 7)),
    draw(randomStream(42, "batches", 3, 7)),
  );
  const variants = [
    randomStream(42, "batches", 3, 7),
    randomStream(43, "batches", 3, 7),
    randomStream(42, "init", 3, 7),
    randomStream(42, "batches", 4, 7),
    randomStream(42, "batches", 3, 8),
    randomStream(42, "batches", 3),
    new Random([42, "batches", "3", 7]),
  ].map((r) => draw(r).join());
  assert.equal(new Set(variants).size, variants.length);
  const parent = randomStream(1, "data");
  parent.uniform(); // forks do not depend on the parent's position
  assert.deepEqual(draw(parent.fork(2)), draw(randomStream(1, "data", 2)));
  assert.throws(() => randomStream(-1, "x"), RangeError);
  assert.throws(() => randomStream(1, "x", 0.5), RangeError);
});

Deno.test("neighbouring streams are uncorrelated", () => {
  const n = 20000;
  const a = randomStream(5, "noise", 0);
  const b = randomStream(5, "noise", 1);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += a.normal() * b.normal();
  assert.ok(Math.abs(sum / n) < 0.03, `correlation ${sum / n}`);
});

Deno.test("uniform draws have mean 1/2 and variance 1/12", () => {
  const random = randomStream(1, "uniform");
  const { mean, variance } = moments(50000, () => {
    const u = random.uniform();
    assert.ok(u >= 0 && u < 1);
    return u;
  });
  assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 0.002, `variance ${variance}`);
});

Deno.test("integers are uniform over their range", () => {
  const random = randomStream(2, "integer");
  const counts = new Array(7).fill(0);
  for (let i = 0; i < 70000; i++) counts[random.integer(7)]++;
  for (const count of counts) assert.ok(Math.abs(count - 10000) < 400, `count ${count}`);
  assert.throws(() => random.integer(0), RangeError);
  assert.equal(random.integer(1), 0);
});

Deno.test("normal draws have the requested mean and variance", () => {
  const random = randomStream(3, "normal");
  const { mean, variance } = moments(50000, () => random.normal(2, 3));
  assert.ok(Math.abs(mean - 2) < 0.05, `mean ${mean}`);
  assert.ok(Math.abs(variance - 9) < 0.25, `variance ${variance}`);
});

Deno.test("gamma draws have mean and variance equal to the shape, below and above 1", () => {
  for (const shape of [0.1, 0.5, 1, 2.5, 10]) {
    const random = randomStream(4, "gamma", Math.round(shape * 10));
    const { mean, variance } = moments(40000, () => random.gamma(shape));
    assert.ok(Math.abs(mean - shape) < 0.04 * Math.max(1, shape), `shape ${shape}: mean ${mean}`);
    assert.ok(
      Math.abs(variance - shape) < 0.1 * Math.max(1, shape),
      `shape ${shape}: variance ${variance}`,
    );
  }
  assert.throws(() => randomStream(4, "gamma").gamma(0), RangeError);
});

Deno.test("dirichlet proportions sum to 1 with mean 1/k", () => {
  const random = randomStream(5, "dirichlet");
  const k = 4;
  const sums = new Array(k).fill(0);
  for (let i = 0; i < 5000; i++) {
    const p = random.dirichlet(0.3, k);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    p.forEach((v, j) => (sums[j] += v));
  }
  for (const s of sums) assert.ok(Math.abs(s / 5000 - 1 / k) < 0.02, `mean ${s / 5000}`);
  // Tiny alpha: all the mass on one category.
  const tiny = random.dirichlet(1e-6, 5);
  assert.equal(tiny.filter((v) => v > 0.999).length, 1);
});

Deno.test("shuffle and permutation are uniform permutations", () => {
  const random = randomStream(6, "shuffle");
  const firsts = new Array(4).fill(0);
  for (let i = 0; i < 8000; i++) {
    const p = random.permutation(4);
    assert.deepEqual([...p].sort(), [0, 1, 2, 3]);
    firsts[p[0]!]++;
  }
  for (const count of firsts) assert.ok(Math.abs(count - 2000) < 200, `count ${count}`);
  const letters = ["a", "b", "c"];
  assert.equal(random.shuffle(letters), letters);
});
