import assert from "node:assert/strict";
import { mixingMatrix, onePeerExponential, period, topologyGap } from "./mod.ts";
import { assertClose, averaging, multiply } from "./_test_helpers.ts";

const topology = onePeerExponential();

function productOverPeriod(n: number): number[][] {
  let product = mixingMatrix(topology, n, 0);
  for (let step = 1; step < period(topology, n); step++) {
    product = multiply(mixingMatrix(topology, n, step), product);
  }
  return product;
}

function maxDeviationFromAverage(n: number): number {
  const product = productOverPeriod(n);
  return Math.max(...product.flatMap((row) => row.map((value) => Math.abs(value - 1 / n))));
}

Deno.test("onePeerExponential() is a frozen plain node", () => {
  assert.deepEqual(topology, { kind: "onePeerExponential" });
  assert.ok(Object.isFrozen(topology));
});

Deno.test("one-peer exponential period is ⌈log2 n⌉, at least 1", () => {
  const expected: [number, number][] = [
    [1, 1],
    [2, 1],
    [3, 2],
    [4, 2],
    [5, 3],
    [8, 3],
    [12, 4],
    [
      16,
      4,
    ],
    [32, 5],
    [33, 6],
  ];
  for (const [n, p] of expected) assert.equal(period(topology, n), p, `n=${n}`);
});

Deno.test("one-peer exponential weights at each step (by hand)", () => {
  assert.deepEqual(mixingMatrix(topology, 1, 7), [[1]]);
  assert.deepEqual(mixingMatrix(topology, 2, 5), [[0.5, 0.5], [0.5, 0.5]]);
  // n = 8, step 1: e = 1, rank 0 averages with 0 − 2 = 6, rank 3 with 1.
  const w = mixingMatrix(topology, 8, 1);
  assert.deepEqual(w[0], [0.5, 0, 0, 0, 0, 0, 0.5, 0]);
  assert.deepEqual(w[3], [0, 0.5, 0, 0.5, 0, 0, 0, 0]);
  // Step 2: e = 2, partner 0 − 4 = 4; step 3 wraps to e = 0.
  assert.deepEqual(mixingMatrix(topology, 8, 2)[0], [0.5, 0, 0, 0, 0.5, 0, 0, 0]);
  assert.deepEqual(mixingMatrix(topology, 8, 3), mixingMatrix(topology, 8, 0));
});

Deno.test("one-peer exponential: product over one period is exact averaging for n = 2^p", () => {
  for (const n of [2, 4, 8, 16, 32, 64]) {
    const product = productOverPeriod(n);
    const exact = averaging(n);
    product.forEach((row, i) =>
      row.forEach((value, j) => assertClose(value, exact[i]![j]!, 1e-12, `n=${n} [${i}][${j}]`))
    );
  }
});

Deno.test("one-peer exponential: product over one period is NOT exact for n = 3, 5, 12", () => {
  for (const n of [3, 5, 12]) {
    assert.ok(maxDeviationFromAverage(n) > 1e-3, `n=${n} unexpectedly exact`);
  }
  // n = 3 by hand: (I + S²)/2 · (I + S)/2 = (2I + S + S²)/4, so the diagonal is 1/2, not 1/3.
  assertClose(productOverPeriod(3)[0]![0]!, 0.5);
});

Deno.test("one-peer exponential per-step gap is 1 − max |cos(π k 2^e / n)|", () => {
  for (const n of [4, 5, 8, 12]) {
    for (let step = 0; step < period(topology, n); step++) {
      const shift = 2 ** step;
      let largest = 0;
      for (let k = 1; k < n; k++) {
        largest = Math.max(largest, Math.abs(Math.cos((Math.PI * k * shift) / n)));
      }
      assertClose(topologyGap(topology, n, step), 1 - largest, 1e-12, `n=${n} step=${step}`);
    }
  }
});
