/**
 * Spectral gap of a topology at a step.
 *
 * @module
 */

import type { TopologyNode } from "./types.ts";
import { mixingMatrix } from "./mixing_matrix.ts";
import { spectralGap } from "./spectral_gap.ts";

/**
 * The spectral gap `1 − ‖W − 11ᵀ/n‖₂` of a topology's mixing matrix at one step.
 *
 * @param topology Any topology node.
 * @param n Number of workers.
 * @param step Training step, default 0.
 * @returns The gap of `mixingMatrix(topology, n, step)`, in `[0, 1]` for the built-ins.
 * @throws {RangeError} When the topology does not fit `n` workers.
 *
 * @example Exponential graph on 8 ranks: 2/(1 + log2 8) = 1/2
 * ```ts
 * import assert from "node:assert/strict";
 * import { exponential, topologyGap } from "./mod.ts";
 *
 * assert.ok(Math.abs(topologyGap(exponential(), 8) - 0.5) < 1e-12);
 * ```
 */
export function topologyGap(topology: TopologyNode, n: number, step = 0): number {
  return spectralGap(mixingMatrix(topology, n, step));
}
