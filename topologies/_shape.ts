/**
 * Internal: does a topology fit `n` workers at all? These are the problems that make a mixing
 * matrix impossible to build (as opposed to a matrix that exists but mixes badly).
 *
 * @module
 */

import { clipEcho } from "../strict_options.ts";
import type { TopologyKind, TopologyNode, TorusTopology } from "./types.ts";
import { isIntegerAtLeast, nodes } from "./_args.ts";
import { checkWeightList } from "./_custom_weights.ts";
import { torusShape } from "./torus_shape.ts";
import { topologyName } from "./topology_name.ts";

/** Every kind; a record, so a kind added to `TopologyNode` but not listed here fails to compile. */
const KINDS: Record<TopologyKind, true> = {
  ring: true,
  torus: true,
  exponential: true,
  onePeerExponential: true,
  complete: true,
  star: true,
  custom: true,
};

/**
 * The first reason `topology` cannot be laid out on `n` workers, or `undefined`. Also re-checks
 * fields that the types promise, because nodes may arrive as JSON.
 */
export function shapeProblem(topology: TopologyNode, n: number): string | undefined {
  const kind: unknown = (topology as { kind?: unknown } | null)?.kind;
  if (typeof kind !== "string" || !Object.hasOwn(KINDS, kind)) {
    return `unknown topology kind ${clipEcho(JSON.stringify(kind) ?? "undefined")}`;
  }
  if (!isIntegerAtLeast(n, 1)) return `workers "${n}" is not a positive integer`;
  switch (topology.kind) {
    case "torus":
      return torusProblem(topology, n);
    case "star": {
      const { hub } = topology;
      if (!isIntegerAtLeast(hub, 0)) return `star hub "${hub}" is not a non-negative integer`;
      return hub < n ? undefined : `star hub ${hub} is outside ranks 0..${n - 1}`;
    }
    case "custom": {
      const name = topologyName(topology);
      const result = checkWeightList(topology.weights);
      if (result.problem !== undefined) {
        return `topology "${name}" has invalid weights: ${result.problem}`;
      }
      const size = result.matrices[0]!.length;
      return size === n ? undefined : `topology "${name}" has ${nodes(size)} but workers is ${n}`;
    }
    default:
      return undefined;
  }
}

function torusProblem(topology: TorusTopology, n: number): string | undefined {
  const { rows, cols } = topology;
  for (const [label, value] of [["rows", rows], ["cols", cols]] as const) {
    if (value !== null && !isIntegerAtLeast(value, 1)) {
      return `torus ${label} "${value}" is not a positive integer`;
    }
  }
  const name = topologyName(topology);
  if (rows !== null && cols !== null) {
    return rows * cols === n ? undefined : `${name} has ${nodes(rows * cols)} but workers is ${n}`;
  }
  const side = rows ?? cols;
  if (side !== null && n % side !== 0) {
    return `${name} does not fit workers ${n}: ${n} is not a multiple of ${side}`;
  }
  return undefined;
}

/** The grid of a torus on `n` workers, filling in `null` sides; assumes no shape problem. */
export function torusDimensions(
  topology: TorusTopology,
  n: number,
): { rows: number; cols: number } {
  const { rows, cols } = topology;
  if (rows !== null && cols !== null) return { rows, cols };
  if (rows !== null) return { rows, cols: n / rows };
  if (cols !== null) return { rows: n / cols, cols };
  return torusShape(n);
}
