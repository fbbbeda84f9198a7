/**
 * Splits a labelled training set across workers: `iid`, `dirichlet(alpha)` and
 * `byLabel(classesPerWorker)`. Every function is a pure function of the labels, the worker
 * count and a seeded {@linkcode Random}, so every worker computes the same partition and keeps
 * its own shard. Shards are lists of positions into the training set, in increasing order.
 *
 * - **iid**: a seeded shuffle of all positions, cut into `n` contiguous pieces whose sizes differ
 *   by at most one.
 * - **dirichlet(alpha)**: the standard non-iid split of FedAvg-style experiments (Hsu, Qi and
 *   Brown 2019; Yurochkin et al. 2019): for each class `c`, proportions `p_c ~ Dir(alpha·1_n)`
 *   over the workers; the class's shuffled examples are cut into pieces of sizes `p_c · m_c`
 *   rounded by largest remainder (so they sum to `m_c` exactly). Small alpha gives each worker
 *   few dominant classes; large alpha approaches iid. **Every worker gets at least one example**:
 *   after the draw, each empty worker (in rank order) takes the last example of the currently
 *   largest shard (lowest rank on ties). With `trainSize ≥ n` a donor with two or more examples
 *   always exists, so the fix-up is deterministic, terminates, and moves at most `n − 1`
 *   examples; it does not redraw, so the Dirichlet proportions are otherwise kept.
 * - **byLabel(k)**: a seeded permutation `π` of the classes; worker `w` holds classes
 *   `π[(w·k + j) mod C]` for `j = 0..k−1` (k distinct classes, dealt round-robin, so every class
 *   is held when `n·k ≥ C`). Each class's shuffled examples are split evenly among the workers
 *   holding it. Examples of a class nobody holds (only when `n·k < C`) are left out, and a
 *   worker sees fewer than k classes only if a class has fewer examples than holders.
 *
 * @module
 */

import type { PartitionNode } from "../../dsl/plan.ts";
import type { Random } from "../random.ts";

/**
 * Sizes of `total` items split into `parts` pieces differing by at most one (the first
 * `total mod parts` pieces get one more).
 *
 * @param total The number of items.
 * @param parts The number of pieces.
 * @returns The piece sizes.
 * @throws {RangeError} When `parts < 1`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { evenSizes } from "./partition.ts";
 * assert.ok(evenSizes(10, 4).join() === "3,3,2,2");
 * ```
 */
export function evenSizes(total: number, parts: number): number[] {
  if (!Number.isInteger(parts) || parts < 1) {
    throw new RangeError(`Cannot split into ${parts} parts: need at least one`);
  }
  const base = Math.floor(total / parts);
  const extra = total % parts;
  return Array.from({ length: parts }, (_, i) => base + (i < extra ? 1 : 0));
}

/** Cuts `items` into consecutive pieces of the given sizes. */
function cut(items: Uint32Array, sizes: readonly number[]): Uint32Array[] {
  const pieces: Uint32Array[] = [];
  let start = 0;
  for (const size of sizes) {
    pieces.push(items.subarray(start, start + size));
    start += size;
  }
  return pieces;
}

/** Positions `0..labels.length-1` grouped by class, each group in increasing order. */
function byClass(labels: ArrayLike<number>, classes: number): Uint32Array[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new RangeError(`Label ${label} at position ${i} is outside 0..${classes - 1}`);
    }
    counts[label]!++;
  }
  const groups = counts.map((count) => new Uint32Array(count));
  const filled = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    groups[label]![filled[label]!++] = i;
  }
  return groups;
}

/** Concatenates pieces into one sorted shard. */
function shard(pieces: readonly Uint32Array[]): Uint32Array {
  const out = new Uint32Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out.sort();
}

/** Checks the worker count. */
function checkWorkers(workers: number): void {
  if (!Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`Cannot partition across ${workers} workers: need at least one`);
  }
}

/**
 * The iid split: a seeded shuffle of `0..count-1` cut into `workers` near-equal shards.
 *
 * @param count The training set size.
 * @param workers The number of workers.
 * @param random The partition's random stream.
 * @returns One sorted shard of positions per worker.
 * @throws {RangeError} When `workers < 1`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { iidPartition } from "./partition.ts";
 * import { randomStream } from "../random.ts";
 * const shards = iidPartition(10, 3, randomStream(1, "partition"));
 * assert.ok(shards.map((s) => s.length).join() === "4,3,3");
 * ```
 */
export function iidPartition(count: number, workers: number, random: Random): Uint32Array[] {
  checkWorkers(workers);
  const order = random.permutation(count);
  return cut(order, evenSizes(count, workers)).map((piece) => shard([piece]));
}

/**
 * Rounds non-negative proportions times `total` to integers summing to `total` (largest
 * remainder; ties go to the lower index).
 *
 * @param proportions Proportions summing to 1.
 * @param total The integer total.
 * @returns Integer counts summing to `total`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roundProportions } from "./partition.ts";
 * assert.ok(roundProportions([0.5, 0.25, 0.25], 5).join() === "3,1,1");
 * ```
 */
export function roundProportions(proportions: readonly number[], total: number): number[] {
  const exact = proportions.map((p) => p * total);
  const counts = exact.map(Math.floor);
  let left = total - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((value, i) => ({ i, frac: value - Math.floor(value) }))
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let j = 0; left > 0; j = (j + 1) % order.length, left--) counts[order[j]!.i]!++;
  return counts;
}

/**
 * The Dirichlet non-iid split (see the module notes): per class, proportions across workers
 * from Dir(alpha), then every empty worker takes one example from the largest shard.
 *
 * @param labels The class of each training example.
 * @param options Worker and class counts, and the concentration `alpha > 0`.
 * @param random The partition's random stream.
 * @returns One sorted shard of positions per worker, each non-empty when there are at least as
 *   many examples as workers.
 * @throws {RangeError} When `alpha ≤ 0`, `workers < 1`, or a label is outside `0..classes-1`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dirichletPartition } from "./partition.ts";
 * import { randomStream } from "../random.ts";
 * const labels = Array.from({ length: 100 }, (_, i) => i % 10);
 * const shards = dirichletPartition(labels, { workers: 4, classes: 10, alpha: 0.1 }, randomStream(1, "p"));
 * assert.ok(shards.reduce((n, s) => n + s.length, 0) === 100);
 * ```
 */
export function dirichletPartition(
  labels: ArrayLike<number>,
  options: { readonly workers: number; readonly classes: number; readonly alpha: number },
  random: Random,
): Uint32Array[] {
  const { workers, classes, alpha } = options;
  checkWorkers(workers);
  if (!(alpha > 0) || !Number.isFinite(alpha)) {
    throw new RangeError(`Dirichlet alpha must be a positive number: ${alpha}`);
  }
  const pieces: Uint32Array[][] = Array.from({ length: workers }, () => []);
  for (const group of byClass(labels, classes)) {
    random.shuffle(group);
    const proportions = random.dirichlet(alpha, workers);
    cut(group, roundProportions(proportions, group.length)).forEach((piece, w) =>
      pieces[w]!.push(piece)
    );
  }
  const shards = pieces.map((list) => Array.from(shard(list)));
  for (let w = 0; w < workers; w++) {
    if (shards[w]!.length > 0) continue;
    let donor = 0;
    for (let v = 1; v < workers; v++) if (shards[v]!.length > shards[donor]!.length) donor = v;
    if (shards[donor]!.length < 2) break; // fewer examples than workers: nothing to give
    shards[w]!.push(shards[donor]!.pop()!);
  }
  return shards.map((list) => Uint32Array.from(list).sort());
}

/**
 * The by-label split (see the module notes): each worker holds `classesPerWorker` classes dealt
 * round-robin from a seeded class order; each class is split evenly among its holders.
 *
 * @param labels The class of each training example.
 * @param options Worker and class counts, and the classes per worker (`1..classes`).
 * @param random The partition's random stream.
 * @returns One sorted shard of positions per worker.
 * @throws {RangeError} When `classesPerWorker` is not in `1..classes`, `workers < 1`, or a label
 *   is outside `0..classes-1`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { byLabelPartition } from "./partition.ts";
 * import { randomStream } from "../random.ts";
 * const labels = Array.from({ length: 100 }, (_, i) => i % 10);
 * const shards = byLabelPartition(labels, { workers: 5, classes: 10, classesPerWorker: 2 }, randomStream(1, "p"));
 * assert.ok(shards.every((s) => new Set([...s].map((i) => labels[i])).size === 2));
 * ```
 */
export function byLabelPartition(
  labels: ArrayLike<number>,
  options: {
    readonly workers: number;
    readonly classes: number;
    readonly classesPerWorker: number;
  },
  random: Random,
): Uint32Array[] {
  const { workers, classes, classesPerWorker: k } = options;
  checkWorkers(workers);
  if (!Number.isInteger(k) || k < 1 || k > classes) {
    throw new RangeError(`byLabel classesPerWorker must be in 1..${classes}: ${k}`);
  }
  const order = random.permutation(classes);
  const holders: number[][] = Array.from({ length: classes }, () => []);
  for (let w = 0; w < workers; w++) {
    for (let j = 0; j < k; j++) holders[order[(w * k + j) % classes]!]!.push(w);
  }
  const pieces: Uint32Array[][] = Array.from({ length: workers }, () => []);
  byClass(labels, classes).forEach((group, c) => {
    const owners = holders[c]!;
    if (owners.length === 0) return;
    random.shuffle(group);
    cut(group, evenSizes(group.length, owners.length)).forEach((piece, j) =>
      pieces[owners[j]!]!.push(piece)
    );
  });
  return pieces.map(shard);
}

/**
 * Splits a labelled training set across workers as a partition node says.
 *
 * @param node The partition node (`iid`, `dirichlet`, `byLabel`).
 * @param labels The class of each training example.
 * @param options Worker and class counts.
 * @param random The partition's random stream (e.g. `randomStream(plan.seed, "partition")`).
 * @returns One sorted shard of positions per worker.
 * @throws {RangeError} When the node's parameters do not fit the labels or worker count.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { partition } from "./partition.ts";
 * import { randomStream } from "../random.ts";
 * const labels = [0, 1, 0, 1, 0, 1];
 * const shards = partition({ kind: "iid" }, labels, { workers: 2, classes: 2 }, randomStream(1, "p"));
 * assert.ok(shards[0]!.length === 3 && shards[1]!.length === 3);
 * ```
 */
export function partition(
  node: PartitionNode,
  labels: ArrayLike<number>,
  options: { readonly workers: number; readonly classes: number },
  random: Random,
): Uint32Array[] {
  switch (node.kind) {
    case "iid":
      return iidPartition(labels.length, options.workers, random);
    case "dirichlet":
      return dirichletPartition(labels, { ...options, alpha: node.alpha }, random);
    case "byLabel":
      return byLabelPartition(
        labels,
        { ...options, classesPerWorker: node.classesPerWorker },
        random,
      );
  }
}
