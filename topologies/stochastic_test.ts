import assert from "node:assert/strict";
import { isColumnStochastic, isDoublyStochastic, isRowStochastic } from "./mod.ts";

Deno.test("stochasticity checks on small matrices (by hand)", () => {
  const rows = [[0.5, 0.5], [1, 0]]; // columns 1.5, 0.5
  const columns = [[0.5, 1], [0.5, 0]]; // rows 1.5, 0.5
  const both = [[0.25, 0.75], [0.75, 0.25]];
  assert.deepEqual([isRowStochastic(rows), isColumnStochastic(rows), isDoublyStochastic(rows)], [
    true,
    false,
    false,
  ]);
  assert.deepEqual(
    [isRowStochastic(columns), isColumnStochastic(columns), isDoublyStochastic(columns)],
    [false, true, false],
  );
  assert.deepEqual([isRowStochastic(both), isColumnStochastic(both), isDoublyStochastic(both)], [
    true,
    true,
    true,
  ]);
});

Deno.test("stochasticity checks allow float rounding only", () => {
  const third = [[0.1 + 0.2, 0.7], [0.7, 0.3]]; // 0.1 + 0.2 = 0.30000000000000004
  assert.equal(isDoublyStochastic(third), true);
  assert.equal(isDoublyStochastic([[0.5 + 1e-6, 0.5], [0.5, 0.5 - 1e-6]]), false);
  assert.equal(isDoublyStochastic([[0.5 + 1e-6, 0.5], [0.5, 0.5 - 1e-6]], 1e-5), true);
});

Deno.test("stochasticity checks reject negative weights and non-square matrices", () => {
  assert.equal(isDoublyStochastic([[1.5, -0.5], [-0.5, 1.5]]), false);
  assert.equal(isRowStochastic([[1, 0, 0], [0, 1, 0]]), false);
  assert.equal(isColumnStochastic([[1, 0], [0]]), false);
  assert.equal(isRowStochastic([[Number.NaN, 1], [0, 1]]), false);
});
