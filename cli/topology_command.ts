/**
 * `gossamer topology <name|preset.json|https://…/preset.json> [--workers N] [--step k]
 * [--svg out.svg] [--json]`: mixing weights, degrees and spectral gap of a topology, and an SVG
 * drawing; `--json` prints it as a preset that `fromFile` and this command load back. A preset
 * fixes its own size, so `--workers` is needed only for a named topology.
 *
 * @module
 */

import {
  complete,
  describeTopology,
  exponential,
  fetchPreset,
  fromFile,
  isDoublyStochastic,
  neighbors,
  onePeerExponential,
  ring,
  star,
  type TopologyNode,
  topologyPreset,
  topologyProblems,
  topologySvg,
  torus,
} from "../topologies/mod.ts";
import { resolve } from "node:path";
import { CliInputError } from "./errors.ts";
import { writeFileAtomic } from "./write_file.ts";

/** Options of the topology command. */
export interface TopologyCommandOptions {
  /** Workers; a preset's own size when left out. */
  readonly workers?: number;
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

/** Turns a command-line name (or preset path or URL) into a topology node. */
async function topologyFromName(
  name: string,
  options: TopologyCommandOptions,
): Promise<TopologyNode> {
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(name)) return await fetchPreset(name);
  // A path on the command line is relative to the working directory, not to this module.
  if (name.endsWith(".json")) return fromFile(resolve(name));
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
    } or a preset .json file or https: URL`,
  );
}

/**
 * The workers to show the topology on: `--workers`, else a preset's own size. A preset of
 * another size than `--workers` is refused by `topologyProblems`, naming both.
 */
function workersOf(name: string, topology: TopologyNode, workers: number | undefined): number {
  if (workers !== undefined) return workers;
  if (topology.kind === "custom") return topology.weights[0]!.length;
  throw new CliInputError(
    `The topology "${name}" needs --workers (-n): only a preset fixes its own size`,
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
  const topology = await topologyFromName(name, options);
  const n = workersOf(name, topology, options.workers);
  const problems = topologyProblems(topology, n, { requireDoublyStochastic: false });
  if (problems.length > 0) {
    throw new CliInputError(`Invalid topology "${name}" for ${n} workers: ${problems.join("; ")}`);
  }
  const description = describeTopology(topology, n, options.step);
  if (options.svg !== undefined) {
    await writeFileAtomic(options.svg, topologySvg(topology, n, options.step));
  }
  if (options.json) {
    // A preset, whole period included: `topology preset.json` and `fromFile` load it back.
    console.log(JSON.stringify(topologyPreset(topology, n), null, 2));
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
