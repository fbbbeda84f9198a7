/**
 * Test-only helpers that recompute things independently of the library code: sums, products,
 * reachability by transitive closure and the largest singular value by power iteration. Tests
 * compare the library against these and against closed forms, never against itself.
 *
 * @module
 */

import assert from "node:assert/strict";

/** A read-only matrix. */
export type Mat = readonly (readonly number[])[];

/** Asserts `|actual − expected| ≤ tolerance`, with a readable message. */
export function assertClose(actual: number, expected: number, tolerance = 1e-12, what = ""): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what ? `${what}: ` : ""}expected ${expected}, got ${actual} (tolerance ${tolerance})`,
  );
}

/** Asserts two matrices are equal entry by entry within a tolerance. */
export function assertMatrixClose(actual: Mat, expected: Mat, tolerance = 1e-12): void {
  assert.equal(actual.length, expected.length, "row count");
  actual.forEach((row, i) => {
    assert.equal(row.length, expected[i]!.length, `row ${i} length`);
    row.forEach((value, j) =>
      assertClose(value, expected[i]![j]!, tolerance, `entry [${i}][${j}]`)
    );
  });
}

/** Sum of each row. */
export function rowSums(m: Mat): number[] {
  return m.map((row) => row.reduce((a, b) => a + b, 0));
}

/** Sum of each column. */
export function columnSums(m: Mat): number[] {
  return m[0]!.map((_, j) => m.reduce((sum, row) => sum + row[j]!, 0));
}

/** Matrix product `a · b`. */
export function multiply(a: Mat, b: Mat): number[][] {
  const n = a.length;
  const k = b.length;
  const m = b[0]!.length;
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: m }, (_, j) => {
      let sum = 0;
      for (let l = 0; l < k; l++) sum += a[i]![l]! * b[l]![j]!;
      return sum;
    }));
}

/** The n×n matrix with every entry `1/n`. */
export function averaging(n: number): number[][] {
  return Array.from({ length: n }, () => new Array<number>(n).fill(1 / n));
}

/**
 * Strong connectivity of the union graph (edge j → i when some `W[i][j] > 0`) by Floyd–Warshall
 * transitive closure, a different algorithm from the library's breadth-first search.
 */
export function stronglyConnectedByClosure(matrices: readonly Mat[]): boolean {
  const n = matrices[0]!.length;
  const reach = Array.from(
    { length: n },
    (_, i) => Array.from({ length: n }, (_, j) => i === j || matrices.some((m) => m[j]![i]! > 0)),
  );
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) if (reach[i]![k] && reach[k]![j]) reach[i]![j] = true;
    }
  }
  return reach.every((row) => row.every(Boolean));
}

/**
 * `1 − σ_max(W − 11ᵀ/n)` with σ_max from power iteration on `MᵀM` (Rayleigh quotient), a
 * different method from the library's one-sided Jacobi. Accurate to about 1e-8 here.
 */
export function gapByPowerIteration(w: Mat, iterations = 4000): number {
  const n = w.length;
  const m = w.map((row) => row.map((value) => value - 1 / n));
  let v = Array.from({ length: n }, (_, i) => Math.sin(i + 1) + 0.5);
  let sigmaSquared = 0;
  for (let it = 0; it < iterations; it++) {
    const mv = m.map((row) => row.reduce((s, value, j) => s + value * v[j]!, 0));
    const mtmv = v.map((_, j) => m.reduce((s, row, i) => s + row[j]! * mv[i]!, 0));
    const norm = Math.hypot(...mtmv);
    if (norm === 0) return 1;
    sigmaSquared = norm / Math.hypot(...v);
    v = mtmv.map((x) => x / norm);
  }
  return 1 - Math.sqrt(sigmaSquared);
}

/**
 * Spectral gap of a circulant matrix whose row 0 is `c` (`W_ij = c[(j − i) mod n]`) from its
 * eigenvalues `λ_k = Σ_j c_j ω^{jk}`: circulants are normal, so singular values are `|λ_k|`.
 */
export function circulantGap(c: readonly number[]): number {
  const n = c.length;
  let largest = 0;
  for (let k = 1; k < n; k++) {
    let re = 0;
    let im = 0;
    c.forEach((value, j) => {
      re += value * Math.cos((2 * Math.PI * j * k) / n);
      im += value * Math.sin((2 * Math.PI * j * k) / n);
    });
    largest = Math.max(largest, Math.hypot(re, im));
  }
  return 1 - largest;
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(): { path: string; remove: () => void } {
  const path = Deno.makeTempDirSync({ prefix: "gossamer_topologies_" });
  return { path, remove: () => Deno.removeSync(path, { recursive: true }) };
}
