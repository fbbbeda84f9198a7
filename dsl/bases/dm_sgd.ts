/**
 * `dmSgd(topology, { beta })`: decentralized momentum SGD, adapt-then-combine
 * (docs/algorithms.md §1.5).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { resolveTopology } from "../../topologies/resolve_topology.ts";
import type { TopologyInput, TopologyNode } from "../../topologies/types.ts";
import { momentum, topology } from "../fields.ts";
import { type BaseDefinition, buildNode, onTopology, type OptionNames } from "../kind.ts";
import { exactOnComplete, neighbourTraffic } from "./_neighbours.ts";

/** Decentralized momentum SGD, adapt-then-combine. */
export interface DmSgdNode {
  /** Node kind, named after the DSL factory `dmSgd()`. */
  readonly kind: "dmSgd";
  /** Mixing graph; must be doubly stochastic and connected. */
  readonly topology: TopologyNode;
  /** Momentum `β` of the base's own buffer `m_i`, in `[0, 1)`. */
  readonly beta: number;
}

/** Options of {@linkcode dmSgd}. */
export interface DmSgdOptions {
  /** Momentum β of the base's own buffer (default 0.9). */
  readonly beta?: number;
}

const OPTIONS: OptionNames<DmSgdOptions> = { beta: true };

/**
 * Decentralized momentum SGD, adapt-then-combine: `m_i = β m_i + g_i`,
 * `x_i ← Σ_j W_ij (x_j − γ_k m_j)`. Momentum lives here, so the optimizer must be plain `sgd`.
 *
 * @param topology A topology node or bare factory.
 * @param options Momentum β (default 0.9).
 * @returns A `dmSgd` base node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dmSgd } from "./dm_sgd.ts";
 * import { ring } from "../../topologies/mod.ts";
 * assert.ok(dmSgd(ring, { beta: 0.8 }).beta === 0.8);
 * ```
 */
export function dmSgd(topology: TopologyInput, options: DmSgdOptions = {}): DmSgdNode {
  return buildNode(
    { kind: "dmSgd", topology: resolveTopology(topology), beta: options.beta ?? 0.9 },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `dmSgd`. */
export const dmSgdKind: BaseDefinition<DmSgdNode, true> = {
  schema: v.strictObject({ kind: v.literal("dmSgd"), topology, beta: momentum }),
  form: onTopology(dmSgd),
  topology: "doublyStochastic",
  decentralized: true,
  ownsMomentum: true,
  plainSgd: "dmSgd carries its own momentum (beta)",
  acceptsOuter: true,
  compresses: null,
  dividesByLr: () => null,
  syncPeriod: exactOnComplete,
  traffic: neighbourTraffic(0),
};
