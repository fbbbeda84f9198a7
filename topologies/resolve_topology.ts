/**
 * Turning what the DSL accepts (`ring` or `ring()`) into a topology node.
 *
 * @module
 */

import { clipEcho } from "../strict_options.ts";
import type { TopologyInput, TopologyNode } from "./types.ts";

/**
 * Resolves a topology input: a node is returned as is, a factory is called without arguments,
 * so `gossip(ring)` and `gossip(ring())` mean the same.
 *
 * @param input A topology node or a factory such as `ring` or `torus`.
 * @returns The topology node.
 * @throws {TypeError} When the input (or what the factory returns) is not an object with a
 * string `kind`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveTopology, ring, torus } from "./mod.ts";
 *
 * assert.deepEqual(resolveTopology(ring), { kind: "ring" });
 * assert.deepEqual(resolveTopology(torus), { kind: "torus", rows: null, cols: null });
 * assert.deepEqual(resolveTopology(ring()), { kind: "ring" });
 * ```
 */
export function resolveTopology(input: TopologyInput): TopologyNode {
  const node: unknown = typeof input === "function" ? input() : input;
  if (
    typeof node !== "object" || node === null ||
    typeof (node as { kind?: unknown }).kind !== "string"
  ) {
    const got = `"${clipEcho(JSON.stringify(node) ?? String(node))}"`;
    throw new TypeError(
      typeof input === "function"
        ? `Cannot resolve topology: factory returned ${got}, not a topology node`
        : `Cannot resolve topology: expected a topology node or factory, got ${got}`,
    );
  }
  return node as TopologyNode;
}
