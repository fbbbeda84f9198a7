/**
 * What the bases that communicate over a topology (the gossip family) share: their traffic, a
 * model to every out-neighbour, and their synchronisation, exact only on a complete graph.
 *
 * @module
 */

import { neighbors, period } from "../../topologies/mod.ts";
import type { TopologyNode } from "../../topologies/types.ts";
import type { BaseTraffic, TrafficContext } from "../kind.ts";
import { FLOAT_BYTES } from "../wire_bytes.ts";

/**
 * Mean number of out-neighbours per worker per step over one period of the topology.
 *
 * @param topology The topology.
 * @param n Workers.
 * @returns Out-neighbours per worker per step.
 */
export function meanOutDegree(topology: TopologyNode, n: number): number {
  const steps = period(topology, n);
  let total = 0;
  for (let step = 0; step < steps; step++) {
    for (let rank = 0; rank < n; rank++) total += neighbors(topology, n, rank, step).sendTo.length;
  }
  return total / (steps * n);
}

/**
 * A gossip-family base's traffic: the model (plus `extraFloats` values) to every out-neighbour.
 *
 * @param extraFloats Values sent beside the model (push-sum's weight).
 * @returns The traffic formula.
 */
export function neighbourTraffic(
  extraFloats: number,
): (node: { readonly topology: TopologyNode }, context: TrafficContext) => BaseTraffic {
  return (node: { readonly topology: TopologyNode }, { d, n }: TrafficContext): BaseTraffic => ({
    base: meanOutDegree(node.topology, n) * (d + extraFloats) * FLOAT_BYTES,
    compressed: 0,
  });
}

/**
 * Workers agree exactly after every step on a complete graph only.
 *
 * @param node A base over a topology.
 * @returns 1 on a complete graph, else `null`.
 */
export function exactOnComplete(node: { readonly topology: TopologyNode }): number | null {
  return node.topology.kind === "complete" ? 1 : null;
}
