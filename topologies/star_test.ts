import assert from "node:assert/strict";
import { mixingMatrix, star, topologyGap } from "./mod.ts";
import { assertClose, assertMatrixClose } from "./_test_helpers.ts";

Deno.test("star() defaults to hub 0 and freezes the node", () => {
  assert.deepEqual(star(), { kind: "star", hub: 0 });
  assert.deepEqual(star({ hub: 3 }), { kind: "star", hub: 3 });
  assert.ok(Object.isFrozen(star()));
});

Deno.test("star() rejects a hub that is not a non-negative integer", () => {
  assert.throws(() => star({ hub: -1 }), {
    name: "RangeError",
    message: 'Cannot create star: hub "-1" is not a non-negative integer',
  });
  assert.throws(() => star({ hub: 0.5 }), RangeError);
});

Deno.test("star Metropolis–Hastings weights (by hand)", () => {
  // Hub degree 3, leaves degree 1: spokes 1/(1 + 3) = 1/4, leaves keep 3/4, hub keeps 1/4.
  const q = 0.25;
  assert.deepEqual(mixingMatrix(star(), 4), [
    [q, q, q, q],
    [q, 0.75, 0, 0],
    [q, 0, 0.75, 0],
    [q, 0, 0, 0.75],
  ]);
  assertMatrixClose(mixingMatrix(star({ hub: 2 }), 3), [
    [2 / 3, 0, 1 / 3],
    [0, 2 / 3, 1 / 3],
    [1 / 3, 1 / 3, 1 / 3],
  ]);
  assert.deepEqual(mixingMatrix(star(), 2), [[0.5, 0.5], [0.5, 0.5]]);
  assert.deepEqual(mixingMatrix(star(), 1), [[1]]);
});

Deno.test("star spectral gap is 1/n for n ≥ 3", () => {
  for (const n of [3, 4, 5, 8, 16]) assertClose(topologyGap(star(), n), 1 / n, 1e-12, `n=${n}`);
  assert.equal(topologyGap(star(), 2), 1);
});

Deno.test("star with a hub outside the ranks cannot be built", () => {
  assert.throws(() => mixingMatrix(star({ hub: 9 }), 8), {
    name: "RangeError",
    message: "Cannot build mixing matrix: star hub 9 is outside ranks 0..7",
  });
});
