/**
 * `gossip(topology)`: D-PSGD (docs/algorithms.md §1.3).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { resolveTopology } from "../../topologies/resolve_topology.ts";
import type { TopologyInput, TopologyNode } from "../../topologies/types.ts";
import { topology } from "../fields.ts";
import { type BaseDefinition, buildNode, onTopology } from "../kind.ts";
import { exactOnComplete, neighbourTraffic } from "./_neighbours.ts";

/** D-PSGD: combine-then-adapt gossip over a doubly stochastic topology. */
export interface GossipNode {
  /** Node kind, named after the DSL factory `gossip()`. */
  readonly kind: "gossip";
  /** Mixing graph; must be doubly stochastic and connected. */
  readonly topology: TopologyNode;
}

/**
 * D-PSGD (Lian et al. 2017): `x_i ← Σ_j W_ij(k) x_j − γ_k · dir_i(g_i)`, gradient at the
 * pre-mixing model. The topology must be doubly stochastic.
 *
 * @param topology A topology node or bare factory: `gossip(ring)` or `gossip(ring())`.
 * @returns A `gossip` base node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gossip } from "./gossip.ts";
 * import { ring } from "../../topologies/mod.ts";
 * assert.ok(gossip(ring).topology.kind === "ring");
 * ```
 */
export function gossip(topology: TopologyInput): GossipNode {
  return buildNode({ kind: "gossip", topology: resolveTopology(topology) }, undefined, {});
}

/** Everything the plan layer knows about `gossip`. */
export const gossipKind: BaseDefinition<GossipNode, false> = {
  schema: v.strictObject({ kind: v.literal("gossip"), topology }),
  form: onTopology(gossip),
  topology: "doublyStochastic",
  decentralized: true,
  ownsMomentum: false,
  plainSgd: null,
  acceptsOuter: true,
  compresses: null,
  dividesByLr: () => null,
  syncPeriod: exactOnComplete,
  traffic: neighbourTraffic(0),
};
