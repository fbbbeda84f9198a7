/**
 * Human-readable reasons a topology does not suit a run, for the plan validator and the CLI.
 *
 * @module
 */

import type { TopologyNode } from "./types.ts";
import {
  firstBadColumn,
  firstBadRow,
  formatNumber,
  TOLERANCE,
  unreachablePair,
} from "./_checks.ts";
import { shapeProblem } from "./_shape.ts";
import { topologyName } from "./topology_name.ts";

/**
 * Everything wrong with running `topology` on `n` workers, as sentences; empty when it is fine.
 *
 * Checked: `n` itself; the number of nodes against `n` (custom size, torus shape) and the star
 * hub; the shape of custom weights (square, finite, non-negative); and for custom weights at every
 * step of one period, the row and column sums (or only the columns when
 * `requireDoublyStochastic` is false) and strong connectivity of the union graph. Built-in
 * topologies are doubly stochastic and strongly connected by construction for every `n ≥ 1` (the
 * conformance suite checks it), so for them only the fit to `n` is checked, which keeps this cheap
 * for large `n`.
 *
 * @param topology Any topology node (it may come from untrusted JSON).
 * @param n Number of workers.
 * @param options `requireDoublyStochastic`: `true` (default) for gossip-family algorithms, which
 * need every `W` doubly stochastic; `false` for SGP, whose matrices need only be
 * column-stochastic. `requirePositiveDiagonal` (default `false`): every custom matrix must keep
 * a positive share on its diagonal, as push-sum needs (a rank that keeps nothing of its own
 * mass can see its weight reach 0, and the de-biased model divides by it).
 * @returns Problems in sentence case without trailing periods, e.g.
 * `torus 3×3 has 9 nodes but workers is 8`; empty when the topology is fine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ring, star, topologyProblems, torus } from "./mod.ts";
 *
 * assert.deepEqual(topologyProblems(ring(), 8), []);
 * assert.deepEqual(topologyProblems(torus({ rows: 3, cols: 3 }), 8), [
 *   "torus 3×3 has 9 nodes but workers is 8",
 * ]);
 * assert.deepEqual(topologyProblems(star({ hub: 9 }), 8), ["star hub 9 is outside ranks 0..7"]);
 * ```
 */
export function topologyProblems(
  topology: TopologyNode,
  n: number,
  options: {
    readonly requireDoublyStochastic?: boolean;
    readonly requirePositiveDiagonal?: boolean;
  } = {},
): string[] {
  const shape = shapeProblem(topology, n);
  if (shape !== undefined) return [shape];
  if (topology.kind !== "custom") return [];

  const problems: string[] = [];
  const name = `topology "${topologyName(topology)}"`;
  const { weights } = topology;
  const requireDoublyStochastic = options.requireDoublyStochastic ?? true;
  const required = requireDoublyStochastic ? "doubly stochastic" : "column-stochastic";
  weights.forEach((matrix, step) => {
    const at = weights.length > 1 ? ` at step ${step}` : "";
    const row = requireDoublyStochastic ? firstBadRow(matrix, TOLERANCE) : undefined;
    if (row !== undefined) {
      problems.push(
        `${name} is not ${required}${at}: row ${row.index} sums to ${formatNumber(row.sum)}`,
      );
    }
    if (options.requirePositiveDiagonal) {
      const rank = matrix.findIndex((row, i) => !(row[i]! > 0));
      if (rank !== -1) {
        problems.push(
          `${name} keeps no share on its diagonal${at}: rank ${rank} has weight ${
            formatNumber(matrix[rank]![rank]!)
          } for itself, and push-sum needs every diagonal weight positive`,
        );
      }
    }
    const column = firstBadColumn(matrix, TOLERANCE);
    if (column !== undefined) {
      problems.push(
        `${name} is not ${required}${at}: column ${column.index} sums to ${
          formatNumber(column.sum)
        }`,
      );
    }
  });
  const pair = unreachablePair(weights, n);
  if (pair !== undefined) {
    const over = weights.length > 1 ? " over one period" : "";
    problems.push(
      `${name} is not strongly connected${over}: rank ${pair[0]} never reaches rank ${pair[1]}`,
    );
  }
  return problems;
}
