/**
 * Spectral gap of a mixing matrix, `1 − ‖W − 11ᵀ/n‖₂`.
 *
 * The gap bounds how fast repeated mixing contracts the disagreement between workers: after `k`
 * steps of a static `W` the distance to the average shrinks by at least `(1 − gap)^k`. The norm is
 * the largest singular value, not the largest eigenvalue, so the result stays meaningful for
 * directed (non-symmetric, even non-normal) graphs.
 *
 * @module
 */

import type { Matrix } from "./result_types.ts";
import { entries } from "./_args.ts";

/**
 * `1 − ‖W − 11ᵀ/n‖₂` for a square matrix `W`: 1 for exact averaging, 0 when some disagreement
 * never shrinks (a disconnected or permuting graph).
 *
 * The largest singular value is computed with one-sided Jacobi rotations (Hestenes), which work
 * on `W − 11ᵀ/n` directly instead of squaring it into `MᵀM`, so small norms keep full precision.
 *
 * @param matrix A square mixing matrix.
 * @returns The spectral gap; it can be negative for a matrix that is not stochastic.
 * @throws {RangeError} When the matrix is empty or not square.
 *
 * @example Ring of 8: (2/3)(1 − cos(2π/8))
 * ```ts
 * import assert from "node:assert/strict";
 * import { mixingMatrix, ring, spectralGap } from "./mod.ts";
 *
 * const gap = spectralGap(mixingMatrix(ring(), 8));
 * assert.ok(Math.abs(gap - (2 / 3) * (1 - Math.cos(Math.PI / 4))) < 1e-12);
 * ```
 */
export function spectralGap(matrix: Matrix): number {
  const n = matrix.length;
  if (n === 0) throw new RangeError("Cannot compute spectral gap: matrix is empty");
  matrix.forEach((row, i) => {
    if (row.length !== n) {
      throw new RangeError(
        `Cannot compute spectral gap: matrix is not square: row ${i} has ${
          entries(row.length)
        } but there are ${n} rows`,
      );
    }
  });
  const centred = matrix.map((row) => row.map((value) => value - 1 / n));
  const gap = 1 - largestSingularValue(centred);
  // Snap float noise at the ends (a gap of -2e-16 would print as "-0.000").
  if (Math.abs(gap) < 1e-14) return 0;
  if (Math.abs(gap - 1) < 1e-14) return 1;
  return gap;
}

/**
 * Largest singular value of a square matrix by one-sided Jacobi: rotate pairs of columns until
 * all columns are mutually orthogonal; the column norms are then the singular values.
 */
function largestSingularValue(matrix: number[][]): number {
  const n = matrix.length;
  // Work on columns: cols[j] is column j of the matrix.
  const cols = Array.from({ length: n }, (_, j) => matrix.map((row) => row[j]!));
  const eps = 1e-15;
  for (let sweep = 0; sweep < 100; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const a = cols[p]!;
        const b = cols[q]!;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < n; i++) {
          alpha += a[i]! * a[i]!;
          beta += b[i]! * b[i]!;
          gamma += a[i]! * b[i]!;
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < n; i++) {
          const ai = a[i]!;
          const bi = b[i]!;
          a[i] = c * ai - s * bi;
          b[i] = s * ai + c * bi;
        }
      }
    }
    if (!rotated) break;
  }
  let largest = 0;
  for (const col of cols) {
    let norm = 0;
    for (const value of col) norm += value * value;
    largest = Math.max(largest, Math.sqrt(norm));
  }
  return largest;
}
