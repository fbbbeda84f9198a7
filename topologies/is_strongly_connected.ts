/**
 * Connectivity check over one period of a topology.
 *
 * @module
 */

import type { Matrix } from "./result_types.ts";
import { squareSize, unreachablePair } from "./_checks.ts";

/**
 * Whether information from every rank reaches every other rank in the union of the graphs of the
 * given matrices; pass the matrices of one period for a time-varying topology. An edge `j → i`
 * exists when `W[i][j] > 0`. If the graph is not strongly connected, some workers' models never
 * influence others' and the workers cannot reach consensus.
 *
 * @param matrices The per-step matrices, all square and of the same size.
 * @returns `true` when the union graph is strongly connected; `false` for an empty list, a
 * non-square matrix or sizes that differ.
 *
 * @example Neither matrix connects the pair, their union does
 * ```ts
 * import assert from "node:assert/strict";
 * import { isStronglyConnected } from "./mod.ts";
 *
 * const stay = [[1, 0], [0, 1]];
 * const oneWay = [[1, 0], [0.5, 0.5]];
 * const otherWay = [[0.5, 0.5], [0, 1]];
 * assert.equal(isStronglyConnected([stay]), false);
 * assert.equal(isStronglyConnected([oneWay]), false);
 * assert.equal(isStronglyConnected([oneWay, otherWay]), true);
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
