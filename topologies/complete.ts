/**
 * Complete graph: every rank averages with every other rank, `W = 11ᵀ/n`.
 *
 * Exact averaging in one step (spectral gap 1) at the price of n − 1 messages per worker; the
 * reference point the sparse graphs are compared against.
 *
 * @module
 */

import type { CompleteTopology } from "./types.ts";

/**
 * Creates a complete-graph topology node (`W = 11ᵀ/n`).
 *
 * @returns A frozen `{ kind: "complete" }` node.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { complete, mixingMatrix } from "./mod.ts";
 *
 * assert.deepEqual(complete(), { kind: "complete" });
 * assert.deepEqual(mixingMatrix(complete(), 2), [[0.5, 0.5], [0.5, 0.5]]);
 * ```
 */
export function complete(): CompleteTopology {
  return Object.freeze({ kind: "complete" });
}
