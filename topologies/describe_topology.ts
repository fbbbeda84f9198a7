/**
 * A one-call summary of a topology on `n` workers, for the CLI.
 *
 * @module
 */

import type { TopologyNode } from "./types.ts";
import type { TopologyDescription } from "./result_types.ts";
import { mixingMatrix } from "./mixing_matrix.ts";
import { period } from "./period.ts";
import { spectralGap } from "./spectral_gap.ts";
import { topologyName } from "./topology_name.ts";
import { torusDimensions } from "./_shape.ts";

/**
 * Notes on a topology's shape: a torus whose grid has a single row or column is a ring (for a
 * prime number of workers no other grid exists), which a user asking for a torus should hear.
 *
 * @param topology Any topology node.
 * @param n Number of workers.
 * @returns The notes, usually none.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topologyNotes, torus } from "./mod.ts";
 *
 * assert.deepEqual(topologyNotes(torus(), 9), []);
 * assert.match(topologyNotes(torus(), 7)[0]!, /a 1 × 7 torus: 7 workers have no grid/);
 * ```
 */
export function topologyNotes(topology: TopologyNode, n: number): string[] {
  if (topology.kind !== "torus") return [];
  const { rows, cols } = torusDimensions(topology, n);
  if (rows > 1 && cols > 1) return [];
  const why = topology.rows === null && topology.cols === null
    ? `${n} workers have no grid of at least 2 × 2`
    : "the grid has a single row or column";
  return [`a ${rows} × ${cols} torus: ${why}, so this torus is a ring; use ring, or other workers`];
}

/**
 * Summarises a topology at one step: name, period, whether it is directed, in-degrees (without
 * self), spectral gap, the mixing matrix itself, and notes on its shape.
 *
 * @param topology Any topology node.
 * @param n Number of workers.
 * @param step Training step, default 0.
 * @returns The description.
 * @throws {RangeError} When the topology does not fit `n` workers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeTopology, exponential } from "./mod.ts";
 *
 * const d = describeTopology(exponential(), 8);
 * assert.equal(d.name, "exponential");
 * assert.equal(d.directed, true);
 * assert.deepEqual(d.degree, { min: 3, max: 3 });
 * assert.ok(Math.abs(d.spectralGap - 0.5) < 1e-12);
 * assert.deepEqual(d.notes, []);
 * ```
 */
export function describeTopology(
  topology: TopologyNode,
  n: number,
  step = 0,
): TopologyDescription {
  const matrix = mixingMatrix(topology, n, step);
  const inDegrees = matrix.map((row, i) => row.filter((w, j) => j !== i && w > 0).length);
  const directed = matrix.some((row, i) =>
    row.some((w, j) => Math.abs(w - matrix[j]![i]!) > 1e-12)
  );
  return {
    name: topologyName(topology),
    n,
    step,
    period: period(topology, n),
    directed,
    degree: { min: Math.min(...inDegrees), max: Math.max(...inDegrees) },
    spectralGap: spectralGap(matrix),
    matrix,
    notes: topologyNotes(topology, n),
  };
}
