/**
 * Complete graph: every rank averages with every other rank, `W = 11ᵀ/n`.
 *
 * Exact averaging in one step (spectral gap 1) at the price of n − 1 messages per worker; useful
 * as the reference point the sparse graphs are compared against.
 *
 * @module
 */

import type { CompleteTopology } from "./types.ts";
import { checkWorkers } from "./_args.ts";

/**
 * Creates a complete-graph topology node (`W = 11ᵀ/n`).
 *
 * @returns A frozen `{ kind: "complete" }` node.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { complete, topologyGap } from "./mod.ts";
 *
 * assert.deepEqual(complete(), { kind: "complete" });
 * assert.equal(topologyGap(complete(), 8), 1);
 * ```
 */
export function complete(): CompleteTopology {
  return Object.freeze({ kind: "complete" });
}

/**
 * The complete graph's mixing matrix: every entry `1/n`.
 *
 * @param n Number of workers.
 * @returns The n×n matrix `11ᵀ/n`.
 * @throws {RangeError} When `n` is not a positive integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { completeWeights } from "./mod.ts";
 *
 * assert.deepEqual(completeWeights(2), [[0.5, 0.5], [0.5, 0.5]]);
 * ```
 */
export function completeWeights(n: number): number[][] {
  checkWorkers(n, "Cannot build complete weights");
  return Array.from({ length: n }, () => new Array<number>(n).fill(1 / n));
}
