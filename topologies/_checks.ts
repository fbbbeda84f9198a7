/**
 * Internal matrix inspections shared by the boolean checks and by `topologyProblems`, which needs
 * to say *which* row, column or rank is wrong rather than just that something is.
 *
 * @module
 */

import type { Matrix } from "./result_types.ts";

/** Default tolerance of the stochasticity checks: sums may be off by float rounding only. */
export const TOLERANCE = 1e-9;

/** A row or column index with its sum. */
export interface BadLine {
  readonly index: number;
  readonly sum: number;
}

/** The size of a square matrix of numbers, or `undefined` when it is not one. */
export function squareSize(matrix: Matrix): number | undefined {
  if (!Array.isArray(matrix)) return undefined;
  const n = matrix.length;
  for (const row of matrix) {
    if (!Array.isArray(row) || row.length !== n) return undefined;
    for (const value of row) if (typeof value !== "number") return undefined;
  }
  return n;
}

/** The first row whose sum is not 1 within `tolerance`. */
export function firstBadRow(matrix: Matrix, tolerance: number): BadLine | undefined {
  for (let i = 0; i < matrix.length; i++) {
    let sum = 0;
    for (const value of matrix[i]!) sum += value;
    if (!(Math.abs(sum - 1) <= tolerance)) return { index: i, sum };
  }
  return undefined;
}

/** The first column whose sum is not 1 within `tolerance`. */
export function firstBadColumn(matrix: Matrix, tolerance: number): BadLine | undefined {
  const n = matrix.length;
  for (let j = 0; j < n; j++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += matrix[i]![j]!;
    if (!(Math.abs(sum - 1) <= tolerance)) return { index: j, sum };
  }
  return undefined;
}

/** The first weight below `-tolerance` (or not finite), as `[row, column, value]`. */
export function firstNegative(
  matrix: Matrix,
  tolerance: number,
): readonly [number, number, number] | undefined {
  for (let i = 0; i < matrix.length; i++) {
    const row = matrix[i]!;
    for (let j = 0; j < row.length; j++) {
      const value = row[j]!;
      if (!(value >= -tolerance) || !Number.isFinite(value)) return [i, j, value];
    }
  }
  return undefined;
}

/**
 * A pair `[from, to]` such that nothing sent by `from` ever reaches `to` in the union graph of
 * `matrices` (edge `j → i` when `W[i][j] > 0`), or `undefined` when the graph is strongly
 * connected. Checking reachability from and to rank 0 is enough: if 0 reaches everyone and
 * everyone reaches 0, any rank reaches any other through 0.
 */
export function unreachablePair(
  matrices: readonly Matrix[],
  n: number,
): readonly [number, number] | undefined {
  const sends = (from: number, to: number): boolean =>
    matrices.some((matrix) => (matrix[to]?.[from] ?? 0) > 0);
  const reach = (forward: boolean): boolean[] => {
    const seen = new Array<boolean>(n).fill(false);
    seen[0] = true;
    const queue = [0];
    while (queue.length > 0) {
      const u = queue.pop()!;
      for (let v = 0; v < n; v++) {
        if (!seen[v] && (forward ? sends(u, v) : sends(v, u))) {
          seen[v] = true;
          queue.push(v);
        }
      }
    }
    return seen;
  };
  const fromZero = reach(true).indexOf(false);
  if (fromZero !== -1) return [0, fromZero];
  const toZero = reach(false).indexOf(false);
  if (toZero !== -1) return [toZero, 0];
  return undefined;
}

/** A sum printed without float noise: `0.8999999999999999` reads `0.9`. */
export function formatNumber(value: number): string {
  return String(Number(value.toPrecision(10)));
}
