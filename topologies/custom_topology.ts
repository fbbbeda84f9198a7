/**
 * Custom topologies built from explicit mixing matrices.
 *
 * One matrix is a static graph; a list is used in turn, matrix `step mod length` at step `step`.
 * Matrices follow the receiver convention (row `i` is what rank `i` takes from rank `j`). Only
 * the shape is checked here (square, consistent sizes, finite non-negative numbers); whether the
 * weights suit an algorithm is decided by `topologyProblems`, so hand-built and loaded weights go
 * through the same checks.
 *
 * @module
 */

import type { CustomTopology } from "./types.ts";
import type { Matrix } from "./result_types.ts";
import { normalizeWeights } from "./_custom_weights.ts";

/**
 * Builds a custom topology from explicit weights: one n×n matrix (static) or a list of per-step
 * n×n matrices. The weights are copied and frozen.
 *
 * @param weights An n×n matrix, or a non-empty list of n×n matrices.
 * @param options `name` shown as `custom <name>`; `source` for messages, default `"inline"`.
 * @returns A frozen `{ kind: "custom", name, source, weights }` node (weights always a list).
 * @throws {TypeError} When the weights are not square, differ in size between steps, or hold
 * anything but finite non-negative numbers.
 *
 * @example Two ranks that average every other step
 * ```ts
 * import assert from "node:assert/strict";
 * import { customTopology, mixingMatrix } from "./mod.ts";
 *
 * const identity = [[1, 0], [0, 1]];
 * const average = [[0.5, 0.5], [0.5, 0.5]];
 * const lazy = customTopology([identity, average], { name: "lazy pair" });
 * assert.equal(lazy.weights.length, 2);
 * assert.deepEqual(mixingMatrix(lazy, 2, 3), average);
 * ```
 */
export function customTopology(
  weights: Matrix | readonly Matrix[],
  options: { readonly name: string; readonly source?: string },
): CustomTopology {
  const result = normalizeWeights(weights);
  if (result.problem !== undefined) {
    throw new TypeError(`Cannot create custom topology "${options.name}": ${result.problem}`);
  }
  return Object.freeze({
    kind: "custom",
    name: options.name,
    source: options.source ?? "inline",
    weights: Object.freeze(
      result.matrices.map((matrix) => Object.freeze(matrix.map((row) => Object.freeze(row)))),
    ),
  });
}
