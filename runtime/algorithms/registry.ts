/**
 * Dispatch tables from plan node kinds to algorithm implementations. The tables are mapped
 * types over the plan unions (`{ [K in BaseKind]: … }`, as `topologies/mixing_matrix.ts` does),
 * so a node kind added to the DSL without its implementation here is a compile error, and each
 * factory receives the node of its own kind, already narrowed.
 *
 * @module
 */

import type {
  BaseKind,
  BaseNode,
  BaseNodeOf,
  OuterKind,
  OuterNode,
  OuterNodeOf,
} from "../../dsl/plan.ts";
import type {
  BaseAlgorithm,
  BaseContext,
  BaseFactory,
  OuterAlgorithm,
  OuterFactory,
  StepContext,
} from "./types.ts";
import { allReduceBase } from "./all_reduce.ts";
import { localSgdBase } from "./local_sgd.ts";
import { gossipBase } from "./gossip.ts";
import { sgpBase } from "./sgp.ts";
import { dmSgdBase } from "./dm_sgd.ts";
import { decentLaMBase } from "./decent_lam.ts";
import { overlapLocalSgdBase } from "./overlap_local_sgd.ts";
import { cadaBase } from "./cada.ts";
import { chocoGossipBase } from "./choco_gossip.ts";
import { slowMoOuter } from "./slow_mo.ts";
import { bmufOuter } from "./bmuf.ts";
import { dilocoOuter } from "./diloco.ts";
import { sparseLocoOuter } from "./sparse_loco.ts";
import { streamingDilocoOuter } from "./streaming_diloco.ts";

/**
 * Base algorithm factories by kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BASES } from "./registry.ts";
 *
 * assert.equal(typeof BASES.gossip, "function");
 * assert.equal(typeof BASES.cada, "function");
 * ```
 */
export const BASES: { readonly [K in BaseKind]: BaseFactory<BaseNodeOf<K>> } = Object.freeze(
  {
    allReduce: allReduceBase,
    localSgd: localSgdBase,
    gossip: gossipBase,
    sgp: sgpBase,
    dmSgd: dmSgdBase,
    decentLaM: decentLaMBase,
    overlapLocalSgd: overlapLocalSgdBase,
    cada: cadaBase,
    chocoGossip: chocoGossipBase,
  },
);

/**
 * Outer algorithm factories by kind.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OUTERS } from "./registry.ts";
 *
 * assert.equal(typeof OUTERS.slowMo, "function");
 * ```
 */
export const OUTERS: { readonly [K in OuterKind]: OuterFactory<OuterNodeOf<K>> } = Object
  .freeze({
    slowMo: slowMoOuter,
    bmuf: bmufOuter,
    diloco: dilocoOuter,
    sparseLoco: sparseLocoOuter,
    streamingDiloco: streamingDilocoOuter,
  });

/**
 * Builds the base algorithm of a node for one worker.
 *
 * @param node The plan's base node.
 * @param context The worker's communicator, `x_0`, optimizer, gradient oracle and compressor.
 * @returns The worker's base algorithm.
 * @throws {RangeError} When the topology does not fit the number of workers.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createBase } from "./registry.ts";
 * import { allReduce } from "../../dsl/bases/mod.ts";
 * import type { BaseContext } from "./types.ts";
 *
 * const base = createBase(allReduce(), { x0: Float32Array.of(1, 2) } as BaseContext);
 * assert.deepEqual([...base.model()], [1, 2]);
 * ```
 */
export function createBase(node: BaseNode, context: BaseContext): BaseAlgorithm {
  // The one place the table is indexed by a union: each entry takes its own kind's node.
  const factory = BASES[node.kind] as BaseFactory<BaseNode>;
  return factory(node, context);
}

/**
 * Builds the outer algorithm of a node for one worker.
 *
 * @param node The plan's outer node.
 * @param context The worker's communicator, `x_0` and buffer policy.
 * @returns The worker's outer algorithm.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createOuter } from "./registry.ts";
 * import { slowMo } from "../../dsl/outers/mod.ts";
 * import type { StepContext } from "./types.ts";
 *
 * const context = { x0: new Float32Array(2), comm: { size: 1 } } as StepContext;
 * assert.equal(typeof createOuter(slowMo({ tau: 2 }), context).afterStep, "function");
 * ```
 */
export function createOuter(node: OuterNode, context: StepContext): OuterAlgorithm {
  const factory = OUTERS[node.kind] as OuterFactory<OuterNode>;
  return factory(node, context);
}
