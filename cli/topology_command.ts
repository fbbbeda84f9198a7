/**
 * `gossamer topology <name|preset.json> --workers N [--step k] [--svg out.svg] [--json]`:
 * mixing weights, degrees and spectral gap of a topology, and an SVG drawing.
 *
 * @module
 */

import {
  complete,
  describeTopology,
  exponential,
  fromFile,
  isDoublyStochastic,
  neighbors,
  onePeerExponential,
  ring,
  star,
  type TopologyNode,
  topologyProblems,
  topologySvg,
  torus,
} from "../topologies/mod.ts";
import { CliInputError } from "./errors.ts";
import { writeFileAtomic } from "./write_file.ts";

/** Options of the topology command. */
export interface TopologyCommandOptions {
  readonly workers: number;
  readonly step: number;
  readonly rows?: number;
  readonly cols?: number;
  readonly hub?: number;
  readonly svg?: string;
  readonly json?: boolean;
}

/** Built-in topology names accepted on the command line. */
export const TOPOLOGY_NAMES = [
  "ring",
  "torus",
  "exponential",
  "onePeerExponential",
  "complete",
  "star",
] as const;

/** Turns a command-line name (or preset path) into a topology node. */
function topologyFromName(name: string, options: TopologyCommandOptions): TopologyNode {
  if (name.endsWith(".json")) return fromFile(name);
  switch (name) {
    case "ring":
      return ring();
    case "torus":
      return torus({
        ...(options.rows === undefined ? {} : { rows: options.rows }),
        ...(options.cols === undefined ? {} : { cols: options.cols }),
      });
    case "exponential":
      return exponential();
    case "onePeerExponential":
      return onePeerExponential();
    case "complete":
      return complete();
    case "star":
      return star(options.hub === undefined ? {} : { hub: options.hub });
  }
  throw new CliInputError(
    `Unknown topology "${name}": expected one of ${
      TOPOLOGY_NAMES.join(", ")
    } or a preset .json file`,
  );
}

/** Formats a weight compactly: 1/3 → 0.333. */
function weight(w: number): string {
  return w === 0 ? "." : Number(w.toFixed(3)).toString();
}

/**
 * Runs `gossamer topology`.
 *
 * @param name A built-in topology name or a preset file.
 * @param options Workers, step, shape options and outputs.
 */
export async function topologyCommand(
  name: string,
  options: TopologyCommandOptions,
): Promise<void> {
  const topology = topologyFromName(name, options);
  const n = options.workers;
  const problems = topologyProblems(topology, n, { requireDoublyStochastic: false });
  if (problems.length > 0) {
    throw new CliInputError(`Invalid topology "${name}" for ${n} workers: ${problems.join("; ")}`);
  }
  const description = describeTopology(topology, n, options.step);
  if (options.svg !== undefined) {
    await writeFileAtomic(options.svg, topologySvg(topology, n, options.step));
  }
  if (options.json) {
    console.log(JSON.stringify(description, null, 2));
    return;
  }
  const doubly = isDoublyStochastic(description.matrix);
  const lines = [
    `${description.name} on ${n} workers, step ${description.step}`,
    `  period          ${description.period}${
      description.period === 1 ? " (static)" : " steps (time-varying)"
    }`,
    `  directed        ${description.directed ? "yes" : "no"}`,
    `  in-degree       ${
      description.degree.min === description.degree.max
        ? description.degree.min
        : `${description.degree.min}–${description.degree.max}`
    }`,
    `  spectral gap    ${description.spectralGap.toFixed(4)}`,
    ...description.notes.map((note) => `  note            ${note}`),
    `  stochasticity   ${
      doubly
        ? `doubly stochastic (gossip, dmSgd, decentLaM, ${
          // CHOCO-SGD's public copies need the same neighbours at every step.
          description.period === 1 ? "chocoGossip, " : ""}sgp)`
        : "column-stochastic only (sgp)"
    }`,
    "",
    "Neighbours (rank ← sender:weight)",
  ];
  for (let rank = 0; rank < n; rank++) {
    const peers = neighbors(topology, n, rank, options.step);
    const from = peers.receiveFrom.map((p) => `${p.rank}:${weight(p.weight)}`).join(" ");
    lines.push(`  ${String(rank).padStart(3)} ← self:${weight(peers.selfWeight)} ${from}`);
  }
  if (n <= 16) {
    lines.push("", "Mixing matrix W (row i: what rank i takes from rank j)");
    for (const row of description.matrix) {
      lines.push("  " + row.map((w) => weight(w).padStart(6)).join(""));
    }
  }
  if (options.svg !== undefined) lines.push("", `Wrote ${options.svg}`);
  console.log(lines.join("\n"));
}
