import assert from "node:assert/strict";
import { isStronglyConnected } from "./mod.ts";

Deno.test("a directed cycle is strongly connected, a one-way chain is not", () => {
  const h = 0.5;
  const cycle = [[h, 0, h], [h, h, 0], [0, h, h]]; // 2 → 0, 0 → 1, 1 → 2
  const chain = [[1, 0, 0], [h, h, 0], [0, h, h]]; // 0 → 1 → 2 only
  assert.equal(isStronglyConnected([cycle]), true);
  assert.equal(isStronglyConnected([chain]), false);
});

Deno.test("strong connectivity is judged on the union over the given steps", () => {
  const forward = [[1, 0], [0.5, 0.5]];
  const backward = [[0.5, 0.5], [0, 1]];
  assert.equal(isStronglyConnected([forward]), false);
  assert.equal(isStronglyConnected([backward]), false);
  assert.equal(isStronglyConnected([forward, backward]), true);
});

Deno.test("strong connectivity edge cases", () => {
  assert.equal(isStronglyConnected([[[1]]]), true);
  assert.equal(isStronglyConnected([]), false);
  assert.equal(isStronglyConnected([[]]), false);
  assert.equal(isStronglyConnected([[[0.5, 0.5], [0.5, 0.5]], [[1]]]), false);
});
