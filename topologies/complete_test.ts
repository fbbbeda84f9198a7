import assert from "node:assert/strict";
import { complete, mixingMatrix, topologyGap } from "./mod.ts";

Deno.test("complete() is a frozen plain node", () => {
  assert.deepEqual(complete(), { kind: "complete" });
  assert.ok(Object.isFrozen(complete()));
});

Deno.test("complete graph: every weight is 1/n and the spectral gap is 1", () => {
  for (const n of [1, 2, 3, 5, 8, 32]) {
    const w = mixingMatrix(complete(), n);
    assert.ok(w.every((row) => row.length === n && row.every((value) => value === 1 / n)));
    assert.equal(topologyGap(complete(), n), 1);
  }
});
