/**
 * `sgp(topology)`: Stochastic Gradient Push (docs/algorithms.md §1.4).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { resolveTopology } from "../../topologies/resolve_topology.ts";
import type { TopologyInput, TopologyNode } from "../../topologies/types.ts";
import { topology } from "../fields.ts";
import { type BaseDefinition, buildNode, onTopology } from "../kind.ts";
import { exactOnComplete, neighbourTraffic } from "./_neighbours.ts";

/** Stochastic Gradient Push: push-sum over a column-stochastic (possibly directed) topology. */
export interface SgpNode {
  /** Node kind, named after the DSL factory `sgp()`. */
  readonly kind: "sgp";
  /** Mixing graph; must be column stochastic and strongly connected, and may be directed. */
  readonly topology: TopologyNode;
}

/**
 * Stochastic Gradient Push (Assran et al. 2019): push-sum over a column-stochastic topology,
 * evaluated on the de-biased `z_i = x_i / w_i`. The only base that accepts directed graphs.
 *
 * @param topology A topology node or bare factory.
 * @returns An `sgp` base node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sgp } from "./sgp.ts";
 * import { exponential } from "../../topologies/mod.ts";
 * assert.ok(sgp(exponential).topology.kind === "exponential");
 * ```
 */
export function sgp(topology: TopologyInput): SgpNode {
  return buildNode({ kind: "sgp", topology: resolveTopology(topology) }, undefined, {});
}

/** Everything the plan layer knows about `sgp`. */
export const sgpKind: BaseDefinition<SgpNode, false> = {
  schema: v.strictObject({ kind: v.literal("sgp"), topology }),
  form: onTopology(sgp),
  topology: "columnStochastic",
  decentralized: true,
  ownsMomentum: false,
  plainSgd: null,
  acceptsOuter: true,
  compresses: null,
  dividesByLr: () => null,
  syncPeriod: exactOnComplete,
  // The push-sum weight travels as one more float.
  traffic: neighbourTraffic(1),
};
