/**
 * The base slot: one file per kind, and the table that assembles them. Adding a base is its file,
 * its `export *` line, a line in the union and a row in the table below (`deno check` fails until
 * both agree), then its runtime file and a line in `runtime/algorithms/registry.ts`.
 *
 * @module
 */

import type { BaseDefinition } from "../kind.ts";
import { allReduceKind, type AllReduceNode } from "./all_reduce.ts";
import { cadaKind, type CadaNode } from "./cada.ts";
import { chocoGossipKind, type ChocoGossipNode } from "./choco_gossip.ts";
import { decentLaMKind, type DecentLaMNode } from "./decent_lam.ts";
import { dmSgdKind, type DmSgdNode } from "./dm_sgd.ts";
import { gossipKind, type GossipNode } from "./gossip.ts";
import { localSgdKind, type LocalSgdNode } from "./local_sgd.ts";
import { overlapLocalSgdKind, type OverlapLocalSgdNode } from "./overlap_local_sgd.ts";
import { sgpKind, type SgpNode } from "./sgp.ts";

export * from "./all_reduce.ts";
export * from "./cada.ts";
export * from "./choco_gossip.ts";
export * from "./decent_lam.ts";
export * from "./dm_sgd.ts";
export * from "./gossip.ts";
export * from "./local_sgd.ts";
export * from "./overlap_local_sgd.ts";
export * from "./sgp.ts";

/** Any base algorithm. */
export type BaseNode =
  | AllReduceNode
  | LocalSgdNode
  | GossipNode
  | SgpNode
  | DmSgdNode
  | DecentLaMNode
  | OverlapLocalSgdNode
  | CadaNode
  | ChocoGossipNode;

/** Base kinds. */
export type BaseKind = BaseNode["kind"];

/**
 * The bases that carry their own momentum (`beta`), so the optimizer must not add one: the DSL's
 * types reject `sgd` with momentum, and Adam, beside them at compile time. The table below holds
 * it to each kind's `ownsMomentum`, so the two cannot disagree.
 */
export type MomentumBaseKind = "dmSgd" | "decentLaM";

/** The base node of kind `K`. */
export type BaseNodeOf<K extends BaseKind> = Extract<BaseNode, { readonly kind: K }>;

/**
 * Every base kind's definition: schema, printed form, traits (topology, momentum, what a
 * compressor encodes, periods, traffic) and checks. Keys are in the order messages list bases.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BASE_KINDS } from "./mod.ts";
 * assert.ok(BASE_KINDS.dmSgd.ownsMomentum && BASE_KINDS.sgp.decentralized);
 * ```
 */
export const BASE_KINDS: {
  readonly [K in BaseKind]: BaseDefinition<
    BaseNodeOf<K>,
    K extends MomentumBaseKind ? true : false
  >;
} = {
  allReduce: allReduceKind,
  localSgd: localSgdKind,
  gossip: gossipKind,
  sgp: sgpKind,
  dmSgd: dmSgdKind,
  decentLaM: decentLaMKind,
  overlapLocalSgd: overlapLocalSgdKind,
  cada: cadaKind,
  chocoGossip: chocoGossipKind,
};
