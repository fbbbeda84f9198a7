import assert from "node:assert/strict";
import { spectralGap } from "./mod.ts";
import { assertClose, averaging, gapByPowerIteration } from "./_test_helpers.ts";

const identity = (n: number): number[][] =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => +(i === j)));

Deno.test("spectral gap of the identity is 0 and of exact averaging is 1", () => {
  assertClose(spectralGap(identity(4)), 0);
  assert.equal(spectralGap(averaging(5)), 1);
  assert.equal(spectralGap([[1]]), 1);
});

Deno.test("spectral gap of a directed cycle (I + S)/2 is 1 − cos(π/n)", () => {
  for (const n of [3, 4, 7, 16]) {
    const w = identity(n).map((row, i) => row.map((v, j) => (v + +(j === (i + 1) % n)) / 2));
    assertClose(spectralGap(w), 1 - Math.cos(Math.PI / n), 1e-12, `n=${n}`);
  }
});

Deno.test("spectral gap uses the singular value of a non-normal matrix", () => {
  // W − J/2 = [[1/2, −1/2], [1/2, −1/2]] has rank 1: σ = Frobenius norm = 1, so the gap is 0,
  // although both eigenvalues of W − J/2 are 0.
  assertClose(spectralGap([[1, 0], [1, 0]]), 0);
  const skewed = [[1, 0, 0], [1, 0, 0], [0, 1, 0]];
  assertClose(spectralGap(skewed), gapByPowerIteration(skewed), 1e-8);
});

Deno.test("spectral gap agrees with power iteration on mixtures of permutations", () => {
  // Deterministic doubly stochastic, non-symmetric matrices: averages of shifted permutations.
  for (const n of [6, 10, 40, 64]) {
    const w = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    const shifts = [0, 1, 3, 5];
    const weights = [0.4, 0.3, 0.2, 0.1];
    shifts.forEach((shift, s) => {
      for (let i = 0; i < n; i++) w[i]![(i * 7 + shift) % n]! += weights[s]!;
    });
    assertClose(spectralGap(w), gapByPowerIteration(w), 1e-7, `n=${n}`);
  }
});

Deno.test("spectral gap refuses empty and non-square matrices", () => {
  assert.throws(() => spectralGap([]), {
    name: "RangeError",
    message: "Cannot compute spectral gap: matrix is empty",
  });
  assert.throws(() => spectralGap([[1, 0], [1]]), {
    message:
      "Cannot compute spectral gap: matrix is not square: row 1 has 1 entry but there are 2 rows",
  });
});
