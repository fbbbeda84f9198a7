/**
 * `decentLaM(topology, { beta })`: decentralized large-batch momentum (docs/algorithms.md §1.6).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { resolveTopology } from "../../topologies/resolve_topology.ts";
import type { TopologyInput, TopologyNode } from "../../topologies/types.ts";
import { momentum, topology } from "../fields.ts";
import { type BaseDefinition, buildNode, onTopology, type OptionNames } from "../kind.ts";
import { exactOnComplete, neighbourTraffic } from "./_neighbours.ts";

/** DecentLaM: decentralized large-batch momentum (Yuan et al. 2021). */
export interface DecentLaMNode {
  /** Node kind, named after the DSL factory `decentLaM()`. */
  readonly kind: "decentLaM";
  /** Mixing graph; must be doubly stochastic and connected. */
  readonly topology: TopologyNode;
  /** Momentum `β` applied to the de-biased gradient `ĝ_i`, in `[0, 1)`. */
  readonly beta: number;
}

/** Options of {@linkcode decentLaM}. */
export interface DecentLaMOptions {
  /** Momentum β applied to the de-biased gradient (default 0.9). */
  readonly beta?: number;
}

const OPTIONS: OptionNames<DecentLaMOptions> = { beta: true };

/**
 * DecentLaM (Yuan et al. 2021): gossip the half steps `y_i = x_i − γ_k g_i`,
 * `ĝ_i = (x_i − Σ_j W_ij y_j)/γ_k`, `m_i = β m_i + ĝ_i`, `x_i −= γ_k m_i`. Removes the
 * heterogeneity bias that momentum adds to dmSgd; needs `γ_k > 0`.
 *
 * @param topology A topology node or bare factory.
 * @param options Momentum β (default 0.9).
 * @returns A `decentLaM` base node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decentLaM } from "./decent_lam.ts";
 * import { exponential } from "../../topologies/mod.ts";
 * assert.ok(decentLaM(exponential).beta === 0.9);
 * ```
 */
export function decentLaM(topology: TopologyInput, options: DecentLaMOptions = {}): DecentLaMNode {
  return buildNode(
    { kind: "decentLaM", topology: resolveTopology(topology), beta: options.beta ?? 0.9 },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `decentLaM`. */
export const decentLaMKind: BaseDefinition<DecentLaMNode, true> = {
  schema: v.strictObject({ kind: v.literal("decentLaM"), topology, beta: momentum }),
  form: onTopology(decentLaM),
  topology: "doublyStochastic",
  decentralized: true,
  ownsMomentum: true,
  plainSgd: "decentLaM carries its own momentum (beta)",
  acceptsOuter: true,
  compresses: null,
  dividesByLr: () => "decentLaM",
  syncPeriod: exactOnComplete,
  traffic: neighbourTraffic(0),
};
