/**
 * Dispatch tables from plan node kinds to algorithm implementations. The tables are mapped
 * types over the plan unions (`Record<BaseKind, …>`), so adding a node kind to the DSL without
 * deciding here whether it runs is a compile error; `null` marks a kind that is not
 * implemented yet, and {@linkcode createBase} / {@linkcode createOuter} refuse it by name.
 *
 * @module
 */

import type { BaseKind, OuterKind } from "../../dsl/plan.ts";
import type {
  BaseAlgorithm,
  BaseContext,
  BaseFactory,
  OuterAlgorithm,
  OuterFactory,
} from "./types.ts";
import { allReduceBase } from "./all_reduce.ts";
import { localSgdBase } from "./local_sgd.ts";
import { gossipBase } from "./gossip.ts";
import { sgpBase } from "./sgp.ts";
import { slowMoOuter } from "./slow_mo.ts";
import { bmufOuter } from "./bmuf.ts";

/**
 * Base algorithm factories by kind; `null` = not implemented yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BASES } from "./registry.ts";
 *
 * assert.equal(typeof BASES.gossip, "function");
 * assert.equal(BASES.cada, null);
 * ```
 */
export const BASES: Readonly<Record<BaseKind, BaseFactory | null>> = Object.freeze({
  allReduce: allReduceBase,
  localSgd: localSgdBase,
  gossip: gossipBase,
  sgp: sgpBase,
  dmSgd: null,
  decentLaM: null,
  overlapLocalSgd: null,
  cada: null,
});

/**
 * Outer algorithm factories by kind; `null` = not implemented yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OUTERS } from "./registry.ts";
 *
 * assert.equal(typeof OUTERS.slowMo, "function");
 * ```
 */
export const OUTERS: Readonly<Record<OuterKind, OuterFactory | null>> = Object.freeze({
  slowMo: slowMoOuter,
  bmuf: bmufOuter,
});

/**
 * Builds the base algorithm of `context.plan` for one worker.
 *
 * Compression is not implemented by these bases yet, so a plan with a compressor is refused
 * rather than run uncompressed.
 *
 * @param context The worker's plan, rank, communicator, `x_0`, optimizer and gradient oracle.
 * @returns The worker's base algorithm.
 * @throws {Error} When the base kind (or the plan's compressor) is not implemented yet.
 * @throws {RangeError} When the topology does not fit the number of workers.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createBase } from "./registry.ts";
 * import type { BaseContext } from "./types.ts";
 *
 * const plan = { base: { kind: "cada" }, compress: null } as unknown as BaseContext["plan"];
 * assert.throws(() => createBase({ plan } as BaseContext), /"cada" is not implemented/);
 * ```
 */
export function createBase(context: BaseContext): BaseAlgorithm {
  const { base, compress } = context.plan;
  const factory = BASES[base.kind];
  if (factory === null) {
    throw new Error(`Cannot create base algorithm: "${base.kind}" is not implemented yet`);
  }
  if (compress !== null) {
    throw new Error(
      `Cannot create base algorithm "${base.kind}": compressor "${compress.kind}" is not implemented yet`,
    );
  }
  return factory(context);
}

/**
 * Builds the outer algorithm of `context.plan` for one worker.
 *
 * @param context The worker's plan, rank, communicator, `x_0`, optimizer and gradient oracle.
 * @returns The worker's outer algorithm.
 * @throws {Error} When the plan has no outer algorithm or its kind is not implemented yet.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createOuter } from "./registry.ts";
 * import type { BaseContext } from "./types.ts";
 *
 * const plan = { outer: null } as unknown as BaseContext["plan"];
 * assert.throws(() => createOuter({ plan } as BaseContext), /has no outer algorithm/);
 * ```
 */
export function createOuter(context: BaseContext): OuterAlgorithm {
  const outer = context.plan.outer;
  if (outer === null) {
    throw new Error("Cannot create outer algorithm: the plan has no outer algorithm");
  }
  const factory = OUTERS[outer.kind];
  if (factory === null) {
    throw new Error(`Cannot create outer algorithm: "${outer.kind}" is not implemented yet`);
  }
  return factory(context);
}
