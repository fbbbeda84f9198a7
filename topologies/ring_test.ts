import assert from "node:assert/strict";
import { mixingMatrix, ring, topologyGap } from "./mod.ts";
import { assertClose } from "./_test_helpers.ts";

const t = 1 / 3;

Deno.test("ring() is a frozen plain node", () => {
  assert.deepEqual(ring(), { kind: "ring" });
  assert.ok(Object.isFrozen(ring()));
  assert.deepEqual(JSON.parse(JSON.stringify(ring())), ring());
});

Deno.test("ring weights for n = 1, 2 and 5 (by hand)", () => {
  assert.deepEqual(mixingMatrix(ring(), 1), [[1]]);
  assert.deepEqual(mixingMatrix(ring(), 2), [[0.5, 0.5], [0.5, 0.5]]);
  assert.deepEqual(mixingMatrix(ring(), 3), [[t, t, t], [t, t, t], [t, t, t]]);
  assert.deepEqual(mixingMatrix(ring(), 5), [
    [t, t, 0, 0, t],
    [t, t, t, 0, 0],
    [0, t, t, t, 0],
    [0, 0, t, t, t],
    [t, 0, 0, t, t],
  ]);
});

Deno.test("ring spectral gap is (2/3)(1 − cos(2π/n)) for n ≥ 3, and 1 for n = 2", () => {
  for (const n of [3, 4, 5, 8, 12, 16, 32, 64]) {
    assertClose(
      topologyGap(ring(), n),
      (2 / 3) * (1 - Math.cos((2 * Math.PI) / n)),
      1e-12,
      `n=${n}`,
    );
  }
  assert.equal(topologyGap(ring(), 2), 1);
});
