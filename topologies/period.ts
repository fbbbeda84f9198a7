/**
 * How often a topology's matrices repeat.
 *
 * @module
 */

import type { TopologyNode } from "./types.ts";
import { shapeProblem } from "./_shape.ts";
import { onePeerExponentialPeriod } from "./_weights.ts";

/**
 * How many steps before a topology's matrices repeat: 1 for static graphs, `⌈log2 n⌉` (at least
 * 1) for the one-peer exponential graph, the number of matrices for a custom topology. Checks
 * that span "all steps" (connectivity, products) need only one period.
 *
 * @param topology Any topology node.
 * @param n Number of workers.
 * @returns The period in steps, at least 1.
 * @throws {RangeError} When the topology does not fit `n` workers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { onePeerExponential, period, ring } from "./mod.ts";
 *
 * assert.equal(period(ring(), 8), 1);
 * assert.equal(period(onePeerExponential(), 8), 3);
 * assert.equal(period(onePeerExponential(), 12), 4);
 * ```
 */
export function period(topology: TopologyNode, n: number): number {
  const problem = shapeProblem(topology, n);
  if (problem !== undefined) throw new RangeError(`Cannot compute period: ${problem}`);
  if (topology.kind === "onePeerExponential") return onePeerExponentialPeriod(n);
  if (topology.kind === "custom") return topology.weights.length;
  return 1;
}
