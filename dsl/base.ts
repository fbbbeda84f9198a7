/**
 * Base algorithms (docs/algorithms.md §1 and §4): how workers combine their progress every step.
 *
 * @module
 */

import { deepFreeze } from "./_freeze.ts";
import type {
  AllReduceNode,
  BufferPolicy,
  CadaNode,
  DecentLaMNode,
  DmSgdNode,
  GossipNode,
  LocalSgdNode,
  OverlapLocalSgdNode,
  SgpNode,
} from "./plan.ts";
import type { TopologyInput } from "../topologies/types.ts";
import { resolveTopology } from "../topologies/resolve_topology.ts";

/**
 * Synchronous data-parallel SGD: `ĝ = avg_i(g_i)` by ring all-reduce every step; every worker
 * applies its optimizer to `ĝ`, so models stay identical.
 *
 * @returns An `allReduce` base node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allReduce } from "./base.ts";
 * assert.ok(allReduce().kind === "allReduce");
 * ```
 */
export function allReduce(): AllReduceNode {
  return deepFreeze({ kind: "allReduce" });
}

/**
 * Local SGD: each worker steps alone and models are averaged after every `tau` steps.
 *
 * @param options Averaging period and optimizer-buffer policy at averaging (default `"keep"`).
 * @returns A `localSgd` base node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { localSgd } from "./base.ts";
 * assert.ok(localSgd({ tau: 4 }).buffers === "keep");
 * ```
 */
export function localSgd(
  options: { readonly tau: number; readonly buffers?: BufferPolicy },
): LocalSgdNode {
  return deepFreeze({ kind: "localSgd", tau: options.tau, buffers: options.buffers ?? "keep" });
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
 * import { gossip } from "./base.ts";
 * import { ring } from "../topologies/mod.ts";
 * assert.ok(gossip(ring).topology.kind === "ring");
 * ```
 */
export function gossip(topology: TopologyInput): GossipNode {
  return deepFreeze({ kind: "gossip", topology: resolveTopology(topology) });
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
 * import { sgp } from "./base.ts";
 * import { exponential } from "../topologies/mod.ts";
 * assert.ok(sgp(exponential).topology.kind === "exponential");
 * ```
 */
export function sgp(topology: TopologyInput): SgpNode {
  return deepFreeze({ kind: "sgp", topology: resolveTopology(topology) });
}

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
 * import { dmSgd } from "./base.ts";
 * import { ring } from "../topologies/mod.ts";
 * assert.ok(dmSgd(ring, { beta: 0.8 }).beta === 0.8);
 * ```
 */
export function dmSgd(
  topology: TopologyInput,
  options: { readonly beta?: number } = {},
): DmSgdNode {
  return deepFreeze({
    kind: "dmSgd",
    topology: resolveTopology(topology),
    beta: options.beta ?? 0.9,
  });
}

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
 * import { decentLaM } from "./base.ts";
 * import { exponential } from "../topologies/mod.ts";
 * assert.ok(decentLaM(exponential).beta === 0.9);
 * ```
 */
export function decentLaM(
  topology: TopologyInput,
  options: { readonly beta?: number } = {},
): DecentLaMNode {
  return deepFreeze({
    kind: "decentLaM",
    topology: resolveTopology(topology),
    beta: options.beta ?? 0.9,
  });
}

/**
 * Overlap Local-SGD (Wang, Liang, Joshi 2020): every `tau` steps each worker is pulled toward
 * an anchor model `z` (`x_i = (1−α) x_i + α z`) whose all-reduce runs while computation goes on.
 * The default α = 0.2 is the reference code's: the anchor is one period stale, and a stronger
 * pull toward it slows training (docs/algorithms.md §1.7).
 *
 * @param options Period, pull-back α (default 0.2) and anchor momentum β (default 0).
 * @returns An `overlapLocalSgd` base node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { overlapLocalSgd } from "./base.ts";
 * assert.ok(overlapLocalSgd({ tau: 2 }).alpha === 0.2);
 * ```
 */
export function overlapLocalSgd(
  options: { readonly tau: number; readonly alpha?: number; readonly beta?: number },
): OverlapLocalSgdNode {
  return deepFreeze({
    kind: "overlapLocalSgd",
    tau: options.tau,
    alpha: options.alpha ?? 0.2,
    beta: options.beta ?? 0,
  });
}

/** Options of {@linkcode cada}. */
export interface CadaOptions {
  /** 1: compare with a snapshot refreshed every `maxDelay` steps; 2 (default): with the last upload's iterate. */
  readonly variant?: 1 | 2;
  /** Threshold constant; 0 makes every worker upload every step. */
  readonly c: number;
  /** Model changes remembered for the threshold (default 10). */
  readonly dMax?: number;
  /** Maximum staleness before a forced upload (default 50). */
  readonly maxDelay?: number;
  /** First-moment decay (default 0.9). */
  readonly beta1?: number;
  /** Second-moment decay (default 0.999). */
  readonly beta2?: number;
  /** Denominator offset (default 1e-8). */
  readonly eps?: number;
  /** AMSGrad maximum of the second moment (default true). */
  readonly amsgrad?: boolean;
}

/**
 * CADA (Chen et al. 2021): communication-adaptive distributed Adam in parameter-server form
 * over a star with rank 0 as the server; a worker uploads its gradient change only when it is
 * larger than a threshold built from recent model changes. The learning rate comes from the
 * optimizer slot, which must be plain `sgd`: CADA applies its own Adam update.
 *
 * @param options Variant, threshold constant and Adam parameters.
 * @returns A `cada` base node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cada } from "./base.ts";
 * assert.ok(cada({ c: 0.5 }).variant === 2);
 * ```
 */
export function cada(options: CadaOptions): CadaNode {
  return deepFreeze({
    kind: "cada",
    variant: options.variant ?? 2,
    c: options.c,
    dMax: options.dMax ?? 10,
    maxDelay: options.maxDelay ?? 50,
    beta1: options.beta1 ?? 0.9,
    beta2: options.beta2 ?? 0.999,
    eps: options.eps ?? 1e-8,
    amsgrad: options.amsgrad ?? true,
  });
}
