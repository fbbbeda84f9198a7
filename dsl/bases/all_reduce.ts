/**
 * `allReduce()`: synchronous data-parallel SGD (docs/algorithms.md §1.1).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { type BaseDefinition, buildNode } from "../kind.ts";
import { ringAllReduceBytes } from "../wire_bytes.ts";

/** Synchronous data-parallel SGD: gradients averaged by all-reduce every step. */
export interface AllReduceNode {
  /** Node kind, named after the DSL factory `allReduce()`. */
  readonly kind: "allReduce";
}

/**
 * Synchronous data-parallel SGD: `ĝ = avg_i(g_i)` by ring all-reduce every step; every worker
 * applies its optimizer to `ĝ`, so models stay identical.
 *
 * @returns An `allReduce` base node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allReduce } from "./all_reduce.ts";
 * assert.ok(allReduce().kind === "allReduce");
 * ```
 */
export function allReduce(): AllReduceNode {
  return buildNode({ kind: "allReduce" }, undefined, {});
}

/** Everything the plan layer knows about `allReduce`. */
export const allReduceKind: BaseDefinition<AllReduceNode, false> = {
  schema: v.strictObject({ kind: v.literal("allReduce") }),
  form: { make: allReduce },
  topology: null,
  decentralized: false,
  ownsMomentum: false,
  plainSgd: null,
  acceptsOuter: true,
  compresses: "gradient",
  dividesByLr: () => null,
  syncPeriod: () => 1,
  traffic: (_node, { d, n, compressedExchange }) =>
    compressedExchange === null
      ? { base: ringAllReduceBytes(d, n), compressed: 0 }
      : { base: 0, compressed: compressedExchange },
};
