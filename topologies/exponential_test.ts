import assert from "node:assert/strict";
import { describeTopology, exponential, mixingMatrix, topologyGap } from "./mod.ts";
import { assertClose, circulantGap } from "./_test_helpers.ts";

const q = 0.25;

Deno.test("exponential() is a frozen plain node", () => {
  assert.deepEqual(exponential(), { kind: "exponential" });
  assert.ok(Object.isFrozen(exponential()));
});

Deno.test("exponential weights for n = 5: i receives from i − 1, i − 2, i − 4 (by hand)", () => {
  assert.deepEqual(mixingMatrix(exponential(), 5), [
    [q, q, 0, q, q],
    [q, q, q, 0, q],
    [q, q, q, q, 0],
    [0, q, q, q, q],
    [q, 0, q, q, q],
  ]);
});

Deno.test("exponential weights for n = 1, 2, 3", () => {
  const t = 1 / 3;
  assert.deepEqual(mixingMatrix(exponential(), 1), [[1]]);
  assert.deepEqual(mixingMatrix(exponential(), 2), [[0.5, 0.5], [0.5, 0.5]]);
  assert.deepEqual(mixingMatrix(exponential(), 3), [[t, t, t], [t, t, t], [t, t, t]]);
});

Deno.test("exponential spectral gap is 2/(1 + log2 n) for n a power of two", () => {
  for (let p = 1; p <= 6; p++) {
    assertClose(topologyGap(exponential(), 2 ** p), 2 / (1 + p), 1e-12, `n=${2 ** p}`);
  }
});

Deno.test("exponential spectral gap matches the circulant closed form for any n", () => {
  for (const n of [3, 5, 6, 7, 12, 20]) {
    const exponents = Math.ceil(Math.log2(n));
    const row = new Array<number>(n).fill(0);
    row[0] = 1 / (exponents + 1);
    for (let e = 0; e < exponents; e++) row[(((-(2 ** e)) % n) + n) % n] = 1 / (exponents + 1);
    assertClose(topologyGap(exponential(), n), circulantGap(row), 1e-12, `n=${n}`);
  }
});

Deno.test("exponential graph is directed from n = 5 on", () => {
  assert.equal(describeTopology(exponential(), 3).directed, false);
  assert.equal(describeTopology(exponential(), 8).directed, true);
});
