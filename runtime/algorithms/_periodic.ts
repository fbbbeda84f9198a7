/**
 * Memoisation over one period of a topology: time-varying graphs repeat, so what a worker
 * derives from step `k`'s graph (its neighbours, its push-sum shares) is a pure function of
 * `k mod period`, computed once per phase.
 *
 * @module
 */

import { period } from "../../topologies/mod.ts";
import type { TopologyNode } from "../../topologies/types.ts";

/**
 * Wraps `compute` so each phase of the topology's period is computed once.
 *
 * @param topology The topology.
 * @param n The number of workers.
 * @param compute What to derive from a step (given the phase `k mod period`).
 * @returns A function of the step.
 * @throws {RangeError} When the topology does not fit `n` workers.
 */
export function byTopologyPhase<T>(
  topology: TopologyNode,
  n: number,
  compute: (phase: number) => T,
): (k: number) => T {
  const length = period(topology, n);
  const cache = new Map<number, T>();
  return (k) => {
    const phase = k % length;
    let found = cache.get(phase);
    if (found === undefined) {
      found = compute(phase);
      cache.set(phase, found);
    }
    return found;
  };
}
