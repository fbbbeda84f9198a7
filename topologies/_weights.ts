/**
 * Internal: the mixing matrices of the built-in topologies (docs/algorithms.md §1.8), receiver
 * convention (row `i` is what rank `i` takes from rank `j`). Arguments are assumed valid; the
 * public functions check them first.
 *
 * @module
 */

import { ceilLog2, mod, zeros } from "./_args.ts";

/**
 * Ring: `W_ii = W_{i,i±1} = 1/3`. With n = 2 both neighbours are the same rank; rather than 1/3
 * self and 2/3 other, a two-worker ring is exact averaging (1/2 each).
 */
export function ringWeights(n: number): number[][] {
  if (n === 1) return [[1]];
  if (n === 2) return [[0.5, 0.5], [0.5, 0.5]];
  const w = zeros(n);
  for (let i = 0; i < n; i++) {
    w[i]![i] = 1 / 3;
    w[i]![mod(i - 1, n)] = 1 / 3;
    w[i]![mod(i + 1, n)] = 1 / 3;
  }
  return w;
}

/**
 * Torus: rank `r·cols + c` takes 1/5 from itself and from each of its four wrapped grid
 * neighbours. Coincident neighbours (a side of length 2 makes up = down; a side of length 1 makes
 * them the rank itself) add their weights, so rows still sum to 1 and `W` stays symmetric.
 */
export function torusWeights(rows: number, cols: number): number[][] {
  const w = zeros(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const peers = [
        i,
        mod(r - 1, rows) * cols + c,
        mod(r + 1, rows) * cols + c,
        r * cols + mod(c - 1, cols),
        r * cols + mod(c + 1, cols),
      ];
      for (const j of peers) w[i]![j]! += 1 / 5;
    }
  }
  return w;
}

/**
 * Static exponential graph: uniform `1/(⌈log2 n⌉ + 1)` over self and `i − 2^e (mod n)`,
 * `e = 0..⌈log2 n⌉−1`. The peers are distinct and never `i` itself because `2^e < n` for every
 * such `e`; every rank has in- and out-degree `⌈log2 n⌉`, so the directed `W` is doubly
 * stochastic.
 */
export function exponentialWeights(n: number): number[][] {
  const exponents = ceilLog2(n);
  const weight = 1 / (exponents + 1);
  const w = zeros(n);
  for (let i = 0; i < n; i++) {
    w[i]![i] = weight;
    for (let e = 0; e < exponents; e++) w[i]![mod(i - 2 ** e, n)] = weight;
  }
  return w;
}

/** Period of the one-peer exponential graph: `⌈log2 n⌉`, at least 1 (n = 1 has one matrix). */
export function onePeerExponentialPeriod(n: number): number {
  return Math.max(1, ceilLog2(n));
}

/**
 * One-peer exponential graph at `step`: `W_ii = 1/2`, `W_{i, i − 2^e (mod n)} = 1/2` with
 * `e = step mod ⌈log2 n⌉`. For n = 2^p, multiplying the p matrices of one period gives exact
 * averaging (each step halves the number of distinct values).
 */
export function onePeerExponentialWeights(n: number, step: number): number[][] {
  if (n === 1) return [[1]];
  const e = step % ceilLog2(n);
  const w = zeros(n);
  for (let i = 0; i < n; i++) {
    w[i]![i] = 0.5;
    w[i]![mod(i - 2 ** e, n)] = 0.5;
  }
  return w;
}

/** Complete graph: `W = 11ᵀ/n`. */
export function completeWeights(n: number): number[][] {
  return Array.from({ length: n }, () => new Array<number>(n).fill(1 / n));
}

/**
 * Star around `hub`, Metropolis–Hastings weights: `W_ij = 1/(1 + max(deg_i, deg_j))` on each
 * edge and the rest on the diagonal, which is symmetric and doubly stochastic for any degrees.
 * With hub degree n − 1 every spoke gets `1/n`: the hub averages exactly, a leaf keeps `1 − 1/n`.
 */
export function starWeights(n: number, hub: number): number[][] {
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
