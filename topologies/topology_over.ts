/**
 * A topology re-formed over the workers that remain (elastic runs): when workers leave, the
 * survivors keep mixing over a graph of the same kind built for their number.
 *
 * @module
 */

import type { CustomTopology, TopologyNode } from "./types.ts";
import { checkWorkers, nodes } from "./_args.ts";
import { shapeProblem } from "./_shape.ts";
import { customTopology } from "./custom_topology.ts";
import { topologyName } from "./topology_name.ts";
import { torusShape } from "./torus_shape.ts";
import {
  completeWeights,
  exponentialWeights,
  onePeerExponentialPeriod,
  onePeerExponentialWeights,
  ringWeights,
  starWeights,
  torusWeights,
} from "./_weights.ts";

/**
 * The topology `topology` re-formed over `members`, some of a run's `n` workers, as a custom
 * topology on the run's `n` ranks: every function of topologies (`mixingMatrix`, `neighbors`,
 * `pushSumMatrix`, `period`) then works on the run's ranks unchanged, members mix only with
 * members, and a rank outside the members keeps weight 1 on itself and has no edges.
 *
 * Built-in kinds are built anew for `m = members.length` nodes and placed on the members by
 * position (node `p` is worker `members[p]`): a ring over the members in rank order, the
 * exponential and one-peer exponential graphs over `m` (period `⌈log2 m⌉`), the complete graph
 * over `m`, a star around the same hub. A torus whose shape was left to the worker count takes
 * the most square grid of `m`, as a run of `m` workers would (a prime `m` gives one row); a
 * declared shape (`torus({ rows: 4, cols: 4 })`) becomes the most square grid of `m` when `m`
 * factors into two sides of at least 2, and is refused otherwise.
 *
 * Custom topologies (presets) keep the graph among the members: per matrix, the sub-graph the
 * members induce, an edge between two members when either weight between them is positive, with
 * Metropolis–Hastings weights `W_ij = 1/(1 + max(d_i, d_j))` on each edge and the rest on the
 * diagonal (`d` the degree in the sub-graph). These weights are symmetric and doubly stochastic
 * whatever the degrees; a directed preset's edges are then used both ways. With every worker a
 * member, a preset's own weights are kept.
 *
 * Every matrix is doubly stochastic, so push-sum (SGP) may use it as is.
 *
 * @param topology Any topology node.
 * @param members The workers that remain: ranks of the run, distinct, ascending, at least one.
 * @param n The run's workers.
 * @returns A frozen custom topology named after the original and its members (`"ring over
 * workers 0, 1, 3"`, `"path4 over workers 0, 1, 2"` for a preset named `path4`).
 * @throws {RangeError} When the topology does not fit `n` workers, the members are not such a
 * list, a star's hub is not a member, a declared torus shape cannot be re-formed over the members'
 * count, or a preset's sub-graph over the members is disconnected (over a whole period for a
 * time-varying preset), naming its separate groups of workers.
 *
 * @example A ring of 4 that lost worker 2: the three others average exactly
 * ```ts
 * import assert from "node:assert/strict";
 * import { mixingMatrix, ring, topologyOver } from "./mod.ts";
 *
 * const t = 1 / 3;
 * assert.deepEqual(mixingMatrix(topologyOver(ring(), [0, 1, 3], 4), 4), [
 *   [t, t, 0, t],
 *   [t, t, 0, t],
 *   [0, 0, 1, 0],
 *   [t, t, 0, t],
 * ]);
 * ```
 */
export function topologyOver(
  topology: TopologyNode,
  members: readonly number[],
  n: number,
): CustomTopology {
  const action = `Cannot re-form ${topologyName(topology)} over ${workers(members)}`;
  checkWorkers(n, action);
  const problem = shapeProblem(topology, n);
  if (problem !== undefined) throw new RangeError(`${action}: ${problem}`);
  checkMemberList(members, n, action);
  const compact = reformed(topology, members, n, action);
  const weights = compact.map((matrix) => placed(matrix, members, n));
  return customTopology(weights, {
    // A preset's own name, not its label ("custom …"), which topologyName adds again.
    name: `${topology.kind === "custom" ? topology.name : topologyName(topology)} over ${
      workers(members)
    }`,
    source: topology.kind === "custom" ? topology.source : "membership",
  });
}

/** `"workers 0, 1, 3"`, for names and messages. */
function workers(members: readonly number[]): string {
  return members.length === 0 ? "no workers" : `workers ${members.join(", ")}`;
}

/** The members must be distinct ranks `0..n-1`, ascending, at least one. */
function checkMemberList(members: readonly number[], n: number, action: string): void {
  if (members.length === 0) throw new RangeError(`${action}: there are no members`);
  members.forEach((member, index) => {
    if (!Number.isInteger(member) || member < 0 || member >= n) {
      throw new RangeError(`${action}: ${member} is not a rank 0..${n - 1}`);
    }
    if (index > 0 && member <= members[index - 1]!) {
      throw new RangeError(`${action}: members must be distinct and ascending`);
    }
  });
}

/** The matrices of one period over the `m` members, node `p` being `members[p]`. */
function reformed(
  topology: TopologyNode,
  members: readonly number[],
  n: number,
  action: string,
): number[][][] {
  const m = members.length;
  if (topology.kind === "custom") {
    if (m === n) return topology.weights.map((matrix) => matrix.map((row) => [...row]));
    return inducedMetropolis(topology, members, action);
  }
  if (m === 1) return [[[1]]];
  switch (topology.kind) {
    case "ring":
      return [ringWeights(m)];
    case "exponential":
      return [exponentialWeights(m)];
    case "onePeerExponential":
      return Array.from(
        { length: onePeerExponentialPeriod(m) },
        (_, step) => onePeerExponentialWeights(m, step),
      );
    case "complete":
      return [completeWeights(m)];
    case "star": {
      const hub = members.indexOf(topology.hub);
      if (hub < 0) {
        throw new RangeError(
          `${action}: the hub, worker ${topology.hub}, is not among them (a star cannot lose its hub)`,
        );
      }
      return [starWeights(m, hub)];
    }
    case "torus": {
      const { rows, cols } = torusShape(m);
      const declared = topology.rows !== null || topology.cols !== null;
      if (declared && rows < 2) {
        throw new RangeError(
          `${action}: ${
            nodes(m)
          } make no grid with both sides at least 2 (${m} is prime); use ring() or a torus without a declared shape`,
        );
      }
      return [torusWeights(rows, cols)];
    }
  }
}

/**
 * A preset's matrices restricted to the members, with Metropolis–Hastings weights on each
 * induced sub-graph; refused when the union of the sub-graphs over the period is disconnected.
 */
function inducedMetropolis(
  topology: CustomTopology,
  members: readonly number[],
  action: string,
): number[][][] {
  const m = members.length;
  const linked = (matrix: CustomTopology["weights"][number], p: number, q: number) =>
    p !== q && (matrix[members[p]!]![members[q]!]! > 0 || matrix[members[q]!]![members[p]!]! > 0);
  const groups = components(
    m,
    (p, q) => topology.weights.some((matrix) => linked(matrix, p, q)),
  );
  if (groups.length > 1) {
    const listed = groups.map((group) => `{${group.map((p) => members[p]).join(", ")}}`);
    throw new RangeError(
      `${action}: the preset's graph over them falls apart into ${
        listed.join(" and ")
      }, which never exchange models`,
    );
  }
  return topology.weights.map((matrix) => {
    const degree = Array.from(
      { length: m },
      (_, p) => Array.from({ length: m }, (_, q) => linked(matrix, p, q)).filter(Boolean).length,
    );
    const w = Array.from({ length: m }, () => new Array<number>(m).fill(0));
    for (let p = 0; p < m; p++) {
      for (let q = 0; q < m; q++) {
        if (linked(matrix, p, q)) w[p]![q] = 1 / (1 + Math.max(degree[p]!, degree[q]!));
      }
    }
    for (let p = 0; p < m; p++) {
      w[p]![p] = 1 - w[p]!.reduce((sum, value, q) => q === p ? sum : sum + value, 0);
    }
    return w;
  });
}

/** The connected components of an undirected graph on `0..m-1`, each ascending, by first node. */
function components(m: number, linked: (p: number, q: number) => boolean): number[][] {
  const seen = new Array<boolean>(m).fill(false);
  const groups: number[][] = [];
  for (let start = 0; start < m; start++) {
    if (seen[start]) continue;
    seen[start] = true;
    const group = [start];
    for (let k = 0; k < group.length; k++) {
      for (let q = 0; q < m; q++) {
        if (!seen[q] && linked(group[k]!, q)) {
          seen[q] = true;
          group.push(q);
        }
      }
    }
    groups.push(group.sort((a, b) => a - b));
  }
  return groups;
}

/** An `m × m` matrix over the members placed in an `n × n` one; other ranks keep themselves. */
function placed(matrix: readonly (readonly number[])[], members: readonly number[], n: number) {
  const w = Array.from({ length: n }, (_, i) => {
    const row = new Array<number>(n).fill(0);
    row[i] = 1;
    return row;
  });
  members.forEach((i, p) => {
    w[i]![i] = 0;
    members.forEach((j, q) => w[i]![j] = matrix[p]![q]!);
  });
  return w;
}
