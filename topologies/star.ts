/**
 * Star topology: every rank talks only to a hub rank (the parameter-server shape).
 *
 * Weights are Metropolis–Hastings, `W_ij = 1/(1 + max(deg_i, deg_j))` on each edge and the rest
 * on the diagonal, which makes `W` symmetric and doubly stochastic for any degrees. With hub
 * degree n − 1 that is `1/n` on every spoke: the hub averages exactly, leaves keep `1 − 1/n`, and
 * the spectral gap is only `1/n` (n ≥ 3), which is why stars suit parameter-server algorithms
 * better than gossip.
 *
 * @module
 */

import type { StarTopology } from "./types.ts";
import { checkWorkers, isIntegerAtLeast, zeros } from "./_args.ts";

/** Options of {@linkcode star}. */
export interface StarOptions {
  /** The hub rank, default 0. */
  readonly hub?: number;
}

/**
 * Creates a star topology node around `hub` (default rank 0). Whether the hub exists is checked
 * against the number of workers later, by `topologyProblems` and `mixingMatrix`.
 *
 * @param options The hub rank.
 * @returns A frozen `{ kind: "star", hub }` node.
 * @throws {RangeError} When `hub` is not a non-negative integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { star } from "./mod.ts";
 *
 * assert.deepEqual(star(), { kind: "star", hub: 0 });
 * assert.deepEqual(star({ hub: 2 }), { kind: "star", hub: 2 });
 * ```
 */
export function star(options: StarOptions = {}): StarTopology {
  const hub = options.hub ?? 0;
  if (!isIntegerAtLeast(hub, 0)) {
    throw new RangeError(`Cannot create star: hub "${hub}" is not a non-negative integer`);
  }
  return Object.freeze({ kind: "star", hub });
}

/**
 * The star's Metropolis–Hastings mixing matrix.
 *
 * @param n Number of workers.
 * @param hub The hub rank, in `0..n-1`.
 * @returns The n×n matrix (receiver convention).
 * @throws {RangeError} When `n` is not a positive integer or `hub` is not a rank.
 *
 * @example Four ranks around hub 0
 * ```ts
 * import assert from "node:assert/strict";
 * import { starWeights } from "./mod.ts";
 *
 * const w = starWeights(4, 0);
 * assert.deepEqual(w[0], [0.25, 0.25, 0.25, 0.25]);
 * assert.deepEqual(w[1], [0.25, 0.75, 0, 0]);
 * ```
 */
export function starWeights(n: number, hub: number): number[][] {
  checkWorkers(n, "Cannot build star weights");
  if (!isIntegerAtLeast(hub, 0) || hub >= n) {
    throw new RangeError(`Cannot build star weights: hub ${hub} is outside ranks 0..${n - 1}`);
  }
  const w = zeros(n);
  const degree = (rank: number): number => (rank === hub ? n - 1 : 1);
  for (let leaf = 0; leaf < n; leaf++) {
    if (leaf === hub) continue;
    const weight = 1 / (1 + Math.max(degree(hub), degree(leaf)));
    w[hub]![leaf] = weight;
    w[leaf]![hub] = weight;
  }
  for (let i = 0; i < n; i++) {
    const offDiagonal = w[i]!.reduce((sum, value) => sum + value, 0);
    w[i]![i] = 1 - offDiagonal;
  }
  return w;
}
