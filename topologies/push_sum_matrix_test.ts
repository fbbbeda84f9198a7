import assert from "node:assert/strict";
import { exponential, onePeerExponential, pushSumMatrix, ring, star } from "./mod.ts";

Deno.test("push-sum on a star of 4: the hub splits 4 ways, each leaf 2 ways (by hand)", () => {
  const q = 0.25;
  const h = 0.5;
  assert.deepEqual(pushSumMatrix(star(), 4), [
    [q, h, h, h],
    [q, h, 0, 0],
    [q, 0, h, 0],
    [q, 0, 0, h],
  ]);
});

Deno.test("push-sum on regular graphs is uniform over self and out-neighbours", () => {
  const t = 1 / 3;
  assert.deepEqual(pushSumMatrix(ring(), 4), [
    [t, t, 0, t],
    [t, t, t, 0],
    [0, t, t, t],
    [t, 0, t, t],
  ]);
  // Exponential on 4: rank i sends to i + 1 and i + 2, so column i has 1/3 at i, i + 1, i + 2.
  assert.deepEqual(pushSumMatrix(exponential(), 4), [
    [t, 0, t, t],
    [t, t, 0, t],
    [t, t, t, 0],
    [0, t, t, t],
  ]);
  // One-peer on 4 at step 1: rank i sends to i + 2.
  assert.deepEqual(pushSumMatrix(onePeerExponential(), 4, 1), [
    [0.5, 0, 0.5, 0],
    [0, 0.5, 0, 0.5],
    [0.5, 0, 0.5, 0],
    [0, 0.5, 0, 0.5],
  ]);
});
