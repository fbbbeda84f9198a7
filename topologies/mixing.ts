/**
 * Mixing matrices and neighbour lists as pure functions of `(topology, n, rank, step)`.
 *
 * Receiver convention throughout: `W[i][j]` is the weight rank `i` gives to what it receives from
 * rank `j`, so `W[i][j] > 0` means `j` sends to `i`. Time-varying graphs are a function of `step`,
 * never of mutable state, so any worker can compute any step's graph on its own.
 *
 * @module
 */

import type { TopologyKind, TopologyNode } from "./types.ts";
import { checkStep, isIntegerAtLeast } from "./_args.ts";
import { shapeProblem, torusDimensions } from "./_shape.ts";
import { completeWeights } from "./complete.ts";
import { exponentialWeights } from "./exponential.ts";
import { onePeerExponentialPeriod, onePeerExponentialWeights } from "./one_peer_exponential.ts";
import { ringWeights } from "./ring.ts";
import { spectralGap } from "./spectral_gap.ts";
import { starWeights } from "./star.ts";
import { torusWeights } from "./torus.ts";

/** The node of a given kind. */
type NodeOf<K extends TopologyKind> = Extract<TopologyNode, { kind: K }>;

/** One builder per kind; the mapped type makes a missing kind a compile error. */
const WEIGHTS: {
  [K in TopologyKind]: (topology: NodeOf<K>, n: number, step: number) => number[][];
} = {
  ring: (_topology, n) => ringWeights(n),
  torus: (topology, n) => {
    const { rows, cols } = torusDimensions(topology, n);
    return torusWeights(rows, cols);
  },
  exponential: (_topology, n) => exponentialWeights(n),
  onePeerExponential: (_topology, n, step) => onePeerExponentialWeights(n, step),
  complete: (_topology, n) => completeWeights(n),
  star: (topology, n) => starWeights(n, topology.hub),
  custom: (topology, _n, step) =>
    topology.weights[step % topology.weights.length]!.map((row) => [...row]),
};

/** Throws with `action` as the prefix when the topology cannot be laid out on `n` workers. */
function checkShape(topology: TopologyNode, n: number, step: number, action: string): void {
  const problem = shapeProblem(topology, n);
  if (problem !== undefined) throw new RangeError(`${action}: ${problem}`);
  checkStep(step, action);
}

/**
 * The mixing matrix `W(step)` of a topology on `n` workers (ALGORITHMS.md §1.8), used by gossip,
 * dmSgd and DecentLaM as `x_i ← Σ_j W_ij x_j`.
 *
 * @param topology Any topology node.
 * @param n Number of workers.
 * @param step Training step, default 0 (only time-varying topologies depend on it).
 * @returns A fresh n×n matrix (receiver convention: row `i` is what `i` takes from `j`).
 * @throws {RangeError} When the topology does not fit `n` workers (torus shape, star hub,
 * custom size) or `n`/`step` is not a valid integer. Stochasticity is not checked here; see
 * `topologyProblems`.
 *
 * @example Ring of 4
 * ```ts
 * import assert from "node:assert/strict";
 * import { mixingMatrix, ring } from "./mod.ts";
 *
 * const t = 1 / 3;
 * assert.deepEqual(mixingMatrix(ring(), 4), [
 *   [t, t, 0, t],
 *   [t, t, t, 0],
 *   [0, t, t, t],
 *   [t, 0, t, t],
 * ]);
 * ```
 */
export function mixingMatrix(topology: TopologyNode, n: number, step = 0): number[][] {
  checkShape(topology, n, step, "Cannot build mixing matrix");
  const build = WEIGHTS[topology.kind] as (t: TopologyNode, n: number, step: number) => number[][];
  return build(topology, n, step);
}

/**
 * The column-stochastic push-sum matrix `P(step)` used by SGP (ALGORITHMS.md §1.4): rank `i`
 * splits its mass uniformly, `1/(outDegree + 1)`, over itself and its out-neighbours (the ranks
 * `j ≠ i` with `W_ji > 0`). A custom topology's matrix is used as given.
 *
 * Uniform out-weights need no knowledge of the receivers, which is what makes push-sum work on
 * directed graphs where `W` could not be made doubly stochastic.
 *
 * @param topology Any topology node.
 * @param n Number of workers.
 * @param step Training step, default 0.
 * @returns A fresh n×n matrix; `P[j][i]` is the share of rank `i`'s mass sent to `j`.
 * @throws {RangeError} As {@linkcode mixingMatrix}.
 *
 * @example A star of 3 around hub 0: the hub splits three ways, leaves two ways
 * ```ts
 * import assert from "node:assert/strict";
 * import { pushSumMatrix, star } from "./mod.ts";
 *
 * const t = 1 / 3;
 * assert.deepEqual(pushSumMatrix(star(), 3), [
 *   [t, 0.5, 0.5],
 *   [t, 0.5, 0],
 *   [t, 0, 0.5],
 * ]);
 * ```
 */
export function pushSumMatrix(topology: TopologyNode, n: number, step = 0): number[][] {
  const w = mixingMatrix(topology, n, step);
  if (topology.kind === "custom") return w;
  const p = w.map((row) => row.map(() => 0));
  for (let i = 0; i < n; i++) {
    const receivers = [i];
    for (let j = 0; j < n; j++) if (j !== i && w[j]![i]! > 0) receivers.push(j);
    for (const j of receivers) p[j]![i] = 1 / receivers.length;
  }
  return p;
}

/** A peer rank and the weight applied to what travels between it and the asking rank. */
export interface Peer {
  /** The other rank. */
  readonly rank: number;
  /** The mixing weight (always applied by the receiver). */
  readonly weight: number;
}

/** What one rank exchanges at one step. */
export interface Neighbors {
  /** `W[rank][rank]`: the share of its own model a rank keeps. */
  readonly selfWeight: number;
  /** Ranks `j ≠ rank` with `W[rank][j] > 0`, weight `W[rank][j]`, sorted by rank. */
  readonly receiveFrom: readonly Peer[];
  /** Ranks `j ≠ rank` with `W[j][rank] > 0`, weight `W[j][rank]`, sorted by rank. */
  readonly sendTo: readonly Peer[];
}

/**
 * The peers of one rank at one step: who it receives from (with the weights it applies) and who
 * it sends to (with the weights the receivers apply). A worker needs only this to run a gossip
 * step.
 *
 * @param topology Any topology node.
 * @param n Number of workers.
 * @param rank The asking rank, in `0..n-1`.
 * @param step Training step, default 0.
 * @returns Self weight plus the receive and send lists, sorted by rank, without self.
 * @throws {RangeError} As {@linkcode mixingMatrix}, or when `rank` is not in `0..n-1`.
 *
 * @example Rank 0 of a directed exponential graph on 5 ranks
 * ```ts
 * import assert from "node:assert/strict";
 * import { exponential, neighbors } from "./mod.ts";
 *
 * const { selfWeight, receiveFrom, sendTo } = neighbors(exponential(), 5, 0);
 * assert.equal(selfWeight, 0.25);
 * assert.deepEqual(receiveFrom.map((p) => p.rank), [1, 3, 4]);
 * assert.deepEqual(sendTo.map((p) => p.rank), [1, 2, 4]);
 * ```
 */
export function neighbors(topology: TopologyNode, n: number, rank: number, step = 0): Neighbors {
  const w = mixingMatrix(topology, n, step);
  if (!isIntegerAtLeast(rank, 0) || rank >= n) {
    throw new RangeError(`Cannot list neighbors: rank "${rank}" is outside ranks 0..${n - 1}`);
  }
  const receiveFrom: Peer[] = [];
  const sendTo: Peer[] = [];
  for (let j = 0; j < n; j++) {
    if (j === rank) continue;
    if (w[rank]![j]! > 0) receiveFrom.push({ rank: j, weight: w[rank]![j]! });
    if (w[j]![rank]! > 0) sendTo.push({ rank: j, weight: w[j]![rank]! });
  }
  return { selfWeight: w[rank]![rank]!, receiveFrom, sendTo };
}

/**
 * How many steps before a topology's matrices repeat: 1 for static graphs, `⌈log2 n⌉` (at least
 * 1) for the one-peer exponential graph, the number of matrices for a custom topology.
 *
 * @param topology Any topology node.
 * @param n Number of workers.
 * @returns The period in steps (≥ 1).
 * @throws {RangeError} When the topology does not fit `n` workers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { onePeerExponential, period, ring } from "./mod.ts";
 *
 * assert.equal(period(ring(), 8), 1);
 * assert.equal(period(onePeerExponential(), 12), 4);
 * ```
 */
export function period(topology: TopologyNode, n: number): number {
  checkShape(topology, n, 0, "Cannot compute period");
  if (topology.kind === "onePeerExponential") return onePeerExponentialPeriod(n);
  if (topology.kind === "custom") return topology.weights.length;
  return 1;
}

/**
 * The spectral gap `1 − ‖W − 11ᵀ/n‖₂` of a topology's mixing matrix at one step.
 *
 * @param topology Any topology node.
 * @param n Number of workers.
 * @param step Training step, default 0.
 * @returns The gap of `mixingMatrix(topology, n, step)`.
 * @throws {RangeError} As {@linkcode mixingMatrix}.
 *
 * @example Exponential graph on 8 ranks: 2/(1 + log2 8)
 * ```ts
 * import assert from "node:assert/strict";
 * import { exponential, topologyGap } from "./mod.ts";
 *
 * assert.ok(Math.abs(topologyGap(exponential(), 8) - 0.5) < 1e-12);
 * ```
 */
export function topologyGap(topology: TopologyNode, n: number, step = 0): number {
  return spectralGap(mixingMatrix(topology, n, step));
}
