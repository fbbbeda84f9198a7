/**
 * Short human-readable labels for topology nodes, used in messages, the CLI and SVG titles.
 *
 * @module
 */

import type { TopologyNode } from "./types.ts";

/**
 * A short label for a topology: its kind plus the parameters that distinguish it, e.g. `"ring"`,
 * `"torus 4×4"` (`"torus"` while the shape is left to the number of workers), `"star hub 2"`
 * (`"star"` for the default hub 0), `"custom my-preset"`.
 *
 * @param topology Any topology node.
 * @returns The label; never throws, so it is safe inside error messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ring, topologyName, torus } from "./mod.ts";
 *
 * assert.equal(topologyName(ring()), "ring");
 * assert.equal(topologyName(torus({ rows: 4, cols: 4 })), "torus 4×4");
 * assert.equal(topologyName(torus()), "torus");
 * ```
 */
export function topologyName(topology: TopologyNode): string {
  switch (topology.kind) {
    case "torus": {
      const { rows, cols } = topology;
      if (rows === null && cols === null) return "torus";
      return `torus ${rows ?? "?"}×${cols ?? "?"}`;
    }
    case "star":
      return topology.hub === 0 ? "star" : `star hub ${topology.hub}`;
    case "custom":
      return `custom ${topology.name}`;
    default:
      return String((topology as { kind: unknown }).kind);
  }
}
