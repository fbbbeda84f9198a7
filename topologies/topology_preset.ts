/**
 * Writing any topology as a preset, so `gossamer topology ring -n 8 --json > ring8.json` gives a
 * file that `fromFile` loads back to the same weights at every step.
 *
 * @module
 */

import type { TopologyNode } from "./types.ts";
import type { Matrix, TopologyPreset } from "./result_types.ts";
import { describeTopology } from "./describe_topology.ts";
import { mixingMatrix } from "./mixing_matrix.ts";
import { period } from "./period.ts";

/**
 * A topology on `n` workers as a preset: its name, a description (spectral gap, degrees), and
 * its mixing matrices over one period (one matrix for a static graph), so the preset gives the
 * same matrix as the topology at every step. A custom topology keeps its name.
 *
 * @param topology Any topology.
 * @param n The number of workers.
 * @returns The preset, ready for `JSON.stringify`.
 * @throws {RangeError} When the topology does not fit `n` workers.
 *
 * @example A ring of four, and back
 * ```ts
 * import assert from "node:assert/strict";
 * import { customTopology, mixingMatrix, ring, topologyPreset } from "./mod.ts";
 *
 * const preset = topologyPreset(ring(), 4);
 * assert.equal(preset.name, "ring");
 * const loaded = customTopology(preset.weights, { name: preset.name! });
 * assert.deepEqual(mixingMatrix(loaded, 4, 7), mixingMatrix(ring(), 4, 7));
 * ```
 */
export function topologyPreset(topology: TopologyNode, n: number): TopologyPreset {
  const steps = period(topology, n);
  const weights: Matrix[] = Array.from(
    { length: steps },
    (_, step) => mixingMatrix(topology, n, step),
  );
  const about = describeTopology(topology, n);
  const degree = about.degree.min === about.degree.max
    ? `${about.degree.min}`
    : `${about.degree.min}–${about.degree.max}`;
  const time = steps === 1 ? "static" : `time-varying, period ${steps} steps`;
  return {
    name: topology.kind === "custom" ? topology.name : about.name,
    description: `${about.name} on ${n} workers (${time}): ${
      about.directed ? "directed" : "undirected"
    }, in-degree ${degree}, spectral gap ${about.spectralGap.toFixed(4)} at step 0`,
    weights: steps === 1 ? weights[0]! : weights,
  };
}
