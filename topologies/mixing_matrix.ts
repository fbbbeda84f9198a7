/**
 * The mixing matrix `W(step)` of any topology, the core of every gossip-family algorithm.
 *
 * @module
 */

import type { TopologyKind, TopologyNode } from "./types.ts";
import { checkStep } from "./_args.ts";
import { shapeProblem, torusDimensions } from "./_shape.ts";
import {
  completeWeights,
  exponentialWeights,
  onePeerExponentialWeights,
  ringWeights,
  starWeights,
  torusWeights,
} from "./_weights.ts";

/** The node of a given kind. */
type NodeOf<K extends TopologyKind> = Extract<TopologyNode, { kind: K }>;

/** One builder per kind; the mapped type makes a kind without a builder a compile error. */
const BUILDERS: {
  readonly [K in TopologyKind]: (topology: NodeOf<K>, n: number, step: number) => number[][];
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

/**
 * The mixing matrix `W(step)` of a topology on `n` workers (docs/algorithms.md §1.8), as used by
 * gossip, dmSgd and DecentLaM: `x_i ← Σ_j W_ij x_j`.
 *
 * Receiver convention: `W[i][j]` is the weight rank `i` gives to what it receives from rank `j`,
 * so `W[i][j] > 0` means `j` sends to `i`. The result depends only on its arguments, so every
 * worker can compute any step's graph on its own; time-varying graphs hold no state.
 *
 * @param topology Any topology node.
 * @param n Number of workers.
 * @param step Training step, default 0 (only time-varying topologies depend on it).
 * @returns A fresh n×n matrix.
 * @throws {RangeError} When the topology does not fit `n` workers (torus shape, star hub,
 * custom size or malformed custom weights) or `n`/`step` is not a valid integer.
 * Stochasticity and connectivity are not checked here; see `topologyProblems`.
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
  const problem = shapeProblem(topology, n);
  if (problem !== undefined) throw new RangeError(`Cannot build mixing matrix: ${problem}`);
  checkStep(step, "Cannot build mixing matrix");
  const build = BUILDERS[topology.kind] as (
    topology: TopologyNode,
    n: number,
    step: number,
  ) => number[][];
  return build(topology, n, step);
}
