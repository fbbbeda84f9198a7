/**
 * Stochasticity checks on mixing matrices.
 *
 * Gossip-family algorithms need `W` doubly stochastic: rows summing to 1 make each new model a
 * weighted average, columns summing to 1 keep the mean of all models fixed. Push-sum (SGP) only
 * needs its `P` column-stochastic. All three checks also require a square matrix without negative
 * weights, and allow sums to be off by `tolerance` (float rounding).
 *
 * @module
 */

import type { Matrix } from "./result_types.ts";
import { firstBadColumn, firstBadRow, firstNegative, squareSize, TOLERANCE } from "./_checks.ts";

function isStochastic(
  matrix: Matrix,
  tolerance: number,
  rows: boolean,
  columns: boolean,
): boolean {
  return squareSize(matrix) !== undefined && firstNegative(matrix, tolerance) === undefined &&
    (!rows || firstBadRow(matrix, tolerance) === undefined) &&
    (!columns || firstBadColumn(matrix, tolerance) === undefined);
}

/**
 * Whether a matrix is square, has no negative weights and every row sums to 1.
 *
 * @param matrix The matrix to check.
 * @param tolerance How far a sum may be from 1 (and a weight below 0), default 1e-9.
 * @returns `true` when every row sums to 1 within the tolerance.
 *
 * @example A row-stochastic matrix whose first column sums to 1.5
 * ```ts
 * import assert from "node:assert/strict";
 * import { isColumnStochastic, isDoublyStochastic, isRowStochastic } from "./mod.ts";
 *
 * const rows = [[0.5, 0.5], [1, 0]];
 * assert.equal(isRowStochastic(rows), true);
 * assert.equal(isColumnStochastic(rows), false);
 * assert.equal(isDoublyStochastic(rows), false);
 * ```
 */
export function isRowStochastic(matrix: Matrix, tolerance = TOLERANCE): boolean {
  return isStochastic(matrix, tolerance, true, false);
}

/**
 * Whether a matrix is square, has no negative weights and every column sums to 1.
 *
 * @param matrix The matrix to check.
 * @param tolerance How far a sum may be from 1 (and a weight below 0), default 1e-9.
 * @returns `true` when every column sums to 1 within the tolerance.
 *
 * @example A push-sum matrix: column-stochastic only
 * ```ts
 * import assert from "node:assert/strict";
 * import { isColumnStochastic, isDoublyStochastic, isRowStochastic } from "./mod.ts";
 *
 * const push = [[0.5, 1], [0.5, 0]];
 * assert.equal(isColumnStochastic(push), true);
 * assert.equal(isRowStochastic(push), false);
 * assert.equal(isDoublyStochastic(push), false);
 * ```
 */
export function isColumnStochastic(matrix: Matrix, tolerance = TOLERANCE): boolean {
  return isStochastic(matrix, tolerance, false, true);
}

/**
 * Whether a matrix is both row- and column-stochastic.
 *
 * @param matrix The matrix to check.
 * @param tolerance How far a sum may be from 1 (and a weight below 0), default 1e-9.
 * @returns `true` when every row and every column sums to 1 within the tolerance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isColumnStochastic, isDoublyStochastic, isRowStochastic } from "./mod.ts";
 *
 * const average = [[0.5, 0.5], [0.5, 0.5]];
 * assert.equal(isDoublyStochastic(average), true);
 * assert.equal(isRowStochastic(average) && isColumnStochastic(average), true);
 * assert.equal(isDoublyStochastic([[1.5, -0.5], [-0.5, 1.5]]), false);
 * ```
 */
export function isDoublyStochastic(matrix: Matrix, tolerance = TOLERANCE): boolean {
  return isStochastic(matrix, tolerance, true, true);
}
