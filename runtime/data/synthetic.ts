/**
 * Generated data: Gaussian inputs labelled by a seeded random linear teacher, with a per-worker
 * shift controlled by `heterogeneity`. Nothing is shipped; every worker generates its own shard
 * (and the shared test set) from the seed.
 *
 * With `F` features, `O` outputs (the classes, or 1 for regression) and heterogeneity `h`:
 * - base teacher `W₀ ∈ R^{O×F}` with entries `N(0, 1/F)` (stream `(seed, "synthetic-teacher")`);
 * - worker `r` draws a shift `δ_r ~ N(0, I_F)` and a perturbation `E_r` with entries `N(0, 1/F)`
 *   (stream `(seed, "synthetic-worker", r)`); its input mean is `μ_r = h·δ_r` and its teacher
 *   `W_r = W₀ + h·E_r`. At `h = 0` every worker draws from one distribution; at `h = 1` the mean
 *   moves by one standard deviation per feature and the teacher by as much as its own size;
 * - worker `r`'s examples: `x ~ N(μ_r, I_F)`; classification labels `argmax W_r x`, each flipped
 *   with probability `noise` to a uniformly chosen other class; regression targets
 *   `W_r x + noise·N(0, 1)` (stream `(seed, "synthetic-train", r)`);
 * - worker `r` holds `trainSize / n` examples (sizes differ by at most one);
 * - the test set (the same on every worker) mixes the workers' distributions: test example `j`
 *   comes from worker `j mod n`'s distribution (stream `(seed, "synthetic-test")`), so it
 *   measures the global objective. Test targets are noise-free.
 *
 * @module
 */

import type { SyntheticNode } from "../../dsl/plan.ts";
import { type Random, randomStream } from "../random.ts";
import type { Examples } from "./batches.ts";
import { evenSizes } from "./partition.ts";

/** One worker's data distribution. */
export interface SyntheticDistribution {
  /** Input mean `μ_r`, `features` values. */
  readonly mean: Float64Array;
  /** Teacher `W_r`, `outputs × features` row-major. */
  readonly teacher: Float64Array;
}

/** Outputs of the teacher: the classes, or 1 for regression. */
function outputs(node: SyntheticNode): number {
  return node.task === "regression" ? 1 : node.classes;
}

/**
 * Worker `rank`'s input mean and teacher (see the module notes).
 *
 * @param node The synthetic data node.
 * @param seed The data seed (`node.seed ?? plan.seed`).
 * @param rank The worker.
 * @returns The mean and teacher of that worker's distribution.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syntheticDistribution } from "./synthetic.ts";
 * import { synthetic } from "../../dsl/data/mod.ts";
 * const iid = syntheticDistribution(synthetic({ features: 4 }), 1, 3);
 * assert.ok(iid.mean.every((m) => m === 0));
 * ```
 */
export function syntheticDistribution(
  node: SyntheticNode,
  seed: number,
  rank: number,
): SyntheticDistribution {
  const { features, heterogeneity: h } = node;
  const size = outputs(node) * features;
  const scale = 1 / Math.sqrt(features);
  const base = randomStream(seed, "synthetic-teacher");
  const teacher = Float64Array.from({ length: size }, () => base.normal(0, scale));
  const shift = randomStream(seed, "synthetic-worker", rank);
  const mean = Float64Array.from({ length: features }, () => h * shift.normal());
  for (let i = 0; i < size; i++) teacher[i] = teacher[i]! + h * shift.normal(0, scale);
  return { mean, teacher };
}

/** Writes one example drawn from `dist` into `x` at row `row` and returns its target. */
function drawExample(
  node: SyntheticNode,
  dist: SyntheticDistribution,
  random: Random,
  x: Float32Array,
  row: number,
  noisy: boolean,
): number {
  const { features } = node;
  const input = new Float64Array(features);
  for (let f = 0; f < features; f++) {
    input[f] = dist.mean[f]! + random.normal();
    x[row * features + f] = input[f]!;
  }
  const scores = Array.from({ length: outputs(node) }, (_, o) => {
    let s = 0;
    for (let f = 0; f < features; f++) s += dist.teacher[o * features + f]! * input[f]!;
    return s;
  });
  if (node.task === "regression") {
    const noise = noisy && node.noise > 0 ? node.noise * random.normal() : 0;
    return scores[0]! + noise;
  }
  let label = 0;
  for (let o = 1; o < scores.length; o++) if (scores[o]! > scores[label]!) label = o;
  if (noisy && node.noise > 0 && random.uniform() < node.noise) {
    const other = random.integer(scores.length - 1);
    label = other >= label ? other + 1 : other;
  }
  return label;
}

/**
 * Generates worker `rank`'s training shard.
 *
 * @param node The synthetic data node.
 * @param options The data seed, the worker count and the rank.
 * @returns `trainSize / workers` examples (±1) from the worker's distribution.
 * @throws {RangeError} When the rank is not in `0..workers-1`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syntheticShard } from "./synthetic.ts";
 * import { synthetic } from "../../dsl/data/mod.ts";
 * const shard = syntheticShard(synthetic({ features: 4, trainSize: 10 }), { seed: 1, workers: 3, rank: 0 });
 * assert.ok(shard.size === 4 && shard.x.length === 16);
 * ```
 */
export function syntheticShard(
  node: SyntheticNode,
  options: { readonly seed: number; readonly workers: number; readonly rank: number },
): Examples {
  const { seed, workers, rank } = options;
  if (!Number.isInteger(rank) || rank < 0 || rank >= workers) {
    throw new RangeError(`Rank ${rank} is outside 0..${workers - 1}`);
  }
  const size = evenSizes(node.trainSize, workers)[rank]!;
  const dist = syntheticDistribution(node, seed, rank);
  const random = randomStream(seed, "synthetic-train", rank);
  const x = new Float32Array(size * node.features);
  const y = new Float32Array(size);
  for (let i = 0; i < size; i++) y[i] = drawExample(node, dist, random, x, i, true);
  return { x, y, size };
}

/**
 * Generates the shared test set: example `j` from worker `j mod workers`'s distribution, with
 * noise-free targets.
 *
 * @param node The synthetic data node.
 * @param options The data seed and the worker count.
 * @returns `testSize` examples, the same on every worker.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { syntheticTest } from "./synthetic.ts";
 * import { synthetic } from "../../dsl/data/mod.ts";
 * const test = syntheticTest(synthetic({ features: 4, testSize: 6 }), { seed: 1, workers: 2 });
 * assert.ok(test.size === 6);
 * ```
 */
export function syntheticTest(
  node: SyntheticNode,
  options: { readonly seed: number; readonly workers: number },
): Examples {
  const { seed, workers } = options;
  const dists = Array.from(
    { length: workers },
    (_, r) => syntheticDistribution(node, seed, r),
  );
  const random = randomStream(seed, "synthetic-test");
  const x = new Float32Array(node.testSize * node.features);
  const y = new Float32Array(node.testSize);
  for (let j = 0; j < node.testSize; j++) {
    y[j] = drawExample(node, dists[j % workers]!, random, x, j, false);
  }
  return { x, y, size: node.testSize };
}
