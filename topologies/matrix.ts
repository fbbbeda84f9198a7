/**
 * Plain checks on mixing matrices: stochasticity and strong connectivity.
 *
 * Matrices follow the receiver convention used everywhere in gossamer: row `i` holds what rank `i`
 * takes from each rank `j`, so `W[i][j] > 0` means `j` sends to `i`. Gossip-family algorithms need
 * `W` doubly stochastic (the average is preserved and reached); push-sum (SGP) only needs the
 * column-stochastic `P` (mass is preserved, the weights de-bias the rest).
 *
 * @module
 */

import {
  firstBadColumn,
  firstBadRow,
  firstNegative,
  squareSize,
  TOLERANCE,
  unreachablePair,
} from "./_checks.ts";

/** A read-only square matrix of weights, `matrix[i][j]` being row `i`, column `j`. */
export type Matrix = readonly (readonly number[])[];

/**
 * Whether a matrix is square, has no negative weights and every row sums to 1.
 *
 * Row-stochastic means each rank's new value is a weighted average of what it receives.
 *
 * @param matrix The matrix to check.
 * @param tolerance How far a sum may be from 1 (and a weight below 0), default 1e-9.
 * @returns `true` when every row sums to 1 within the tolerance.
 *
 * @example Rows of a ring on 3 ranks
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRowStochastic } from "./mod.ts";
 *
 * assert.equal(isRowStochastic([[0.5, 0.5], [1, 0]]), true);
 * assert.equal(isRowStochastic([[0.5, 0.4], [1, 0]]), false);
 * ```
 */
export function isRowStochastic(matrix: Matrix, tolerance = TOLERANCE): boolean {
  return squareSize(matrix) !== undefined && firstNegative(matrix, tolerance) === undefined &&
    firstBadRow(matrix, tolerance) === undefined;
}

/**
 * Whether a matrix is square, has no negative weights and every column sums to 1.
 *
 * Column-stochastic means each rank gives away exactly what it has, which is what push-sum needs.
 *
 * @param matrix The matrix to check.
 * @param tolerance How far a sum may be from 1 (and a weight below 0), default 1e-9.
 * @returns `true` when every column sums to 1 within the tolerance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isColumnStochastic } from "./mod.ts";
 *
 * assert.equal(isColumnStochastic([[0.5, 1], [0.5, 0]]), true);
 * assert.equal(isColumnStochastic([[0.5, 0.5], [1, 0]]), false);
 * ```
 */
export function isColumnStochastic(matrix: Matrix, tolerance = TOLERANCE): boolean {
  return squareSize(matrix) !== undefined && firstNegative(matrix, tolerance) === undefined &&
    firstBadColumn(matrix, tolerance) === undefined;
}

/**
 * Whether a matrix is both row- and column-stochastic.
 *
 * Gossip averaging with such a `W` keeps the mean of the models fixed at every step.
 *
 * @param matrix The matrix to check.
 * @param tolerance How far a sum may be from 1 (and a weight below 0), default 1e-9.
 * @returns `true` when every row and every column sums to 1 within the tolerance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDoublyStochastic, mixingMatrix, ring } from "./mod.ts";
 *
 * assert.equal(isDoublyStochastic(mixingMatrix(ring(), 5)), true);
 * assert.equal(isDoublyStochastic([[0.5, 1], [0.5, 0]]), false);
 * ```
 */
export function isDoublyStochastic(matrix: Matrix, tolerance = TOLERANCE): boolean {
  return isRowStochastic(matrix, tolerance) && firstBadColumn(matrix, tolerance) === undefined;
}

/**
 * Whether information from every rank reaches every other rank, in the union of the graphs of
 * the given matrices (pass the matrices of one period for a time-varying topology).
 *
 * An edge `j → i` exists when `W[i][j] > 0`. A graph that is not strongly connected splits the
 * workers into groups whose models never agree.
 *
 * @param matrices The per-step matrices, all of the same size.
 * @returns `true` when the union graph is strongly connected; `false` for an empty list, sizes
 * that differ, or a non-square matrix.
 *
 * @example Two halves that never talk
 * ```ts
 * import assert from "node:assert/strict";
 * import { isStronglyConnected } from "./mod.ts";
 *
 * const split = [[1, 0], [0, 1]];
 * const swap = [[0, 1], [1, 0]];
 * assert.equal(isStronglyConnected([split]), false);
 * assert.equal(isStronglyConnected([split, swap]), true);
 * ```
 */
export function isStronglyConnected(matrices: readonly Matrix[]): boolean {
  const first = matrices[0];
  if (first === undefined) return false;
  const n = squareSize(first);
  if (n === undefined || n === 0) return false;
  if (matrices.some((matrix) => squareSize(matrix) !== n)) return false;
  return unreachablePair(matrices, n) === undefined;
}
