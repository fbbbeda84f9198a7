/**
 * The deterministic least-squares problem as worker data: worker `i`'s batch at every step is
 * its full shard (`x = A_i` row-major, `y = b_i`), so `f_i(x) = (1/(2 m_i)) ‖A_i x − b_i‖²` has
 * exact, full-batch gradients. The test set, the same on every worker, stacks all shards, so
 * evaluating on it gives the loss of the whole problem `(1/(2M)) ‖A x − b‖²` over all `M` rows.
 *
 * @module
 */

import type { LeastSquaresNode } from "../../dsl/plan.ts";
import type { Batch, WorkerData } from "./types.ts";
import {
  LeastSquaresFileError,
  type LeastSquaresProblem,
  type LeastSquaresShard,
  readLeastSquares,
} from "./least_squares_file.ts";

/** Packs shards into one row-major batch. */
function pack(shards: readonly LeastSquaresShard[], dim: number): Batch {
  const rows = shards.reduce((n, shard) => n + shard.b.length, 0);
  const x = new Float32Array(rows * dim);
  const y = new Float32Array(rows);
  let row = 0;
  for (const shard of shards) {
    shard.A.forEach((values, r) => {
      x.set(values, (row + r) * dim);
      y[row + r] = shard.b[r]!;
    });
    row += shard.b.length;
  }
  return { x, y, size: rows };
}

/**
 * Worker `rank`'s data for a parsed least-squares problem. `batch(k)` returns the same full-shard
 * batch object at every step; treat it as read-only.
 *
 * @param problem The parsed shards.
 * @param rank The worker (its shard index).
 * @returns Full-batch worker data with the stacked shards as the test set.
 * @throws {RangeError} When the problem has no shard for `rank`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { leastSquaresWorkerData } from "./least_squares.ts";
 * const problem = { dim: 2, shards: [{ A: [[1, 0], [0, 1]], b: [1, 2] }, { A: [[1, 1]], b: [3] }] };
 * const data = leastSquaresWorkerData(problem, 1);
 * assert.ok(data.shardSize === 1 && data.batch(5).x.join() === "1,1" && data.test.size === 3);
 * ```
 */
export function leastSquaresWorkerData(problem: LeastSquaresProblem, rank: number): WorkerData {
  const shard = problem.shards[rank];
  if (shard === undefined) {
    throw new RangeError(
      `Least-squares problem has ${problem.shards.length} shards: none for worker ${rank}`,
    );
  }
  const own = pack([shard], problem.dim);
  const test = pack(problem.shards, problem.dim);
  return { shardSize: own.size, test, batch: () => own };
}

/**
 * Reads a least-squares node's file and returns worker `rank`'s data.
 *
 * @param node The least-squares data node.
 * @param rank The worker.
 * @param workers The number of workers, which must equal the number of shards.
 * @returns Full-batch worker data.
 * @throws {LeastSquaresFileError} When the file is unreadable, malformed, or has a shard count
 *   other than `workers`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadLeastSquaresData } from "./least_squares.ts";
 * const file = await Deno.makeTempFile({ suffix: ".json" });
 * await Deno.writeTextFile(file, JSON.stringify({ shards: [{ A: [[2]], b: [4] }] }));
 * const data = await loadLeastSquaresData({ kind: "leastSquares", file }, 0, 1);
 * assert.ok(data.batch(0).y[0] === 4);
 * await Deno.remove(file);
 * ```
 */
export async function loadLeastSquaresData(
  node: LeastSquaresNode,
  rank: number,
  workers: number,
): Promise<WorkerData> {
  const problem = await readLeastSquares(node.file);
  if (problem.shards.length !== workers) {
    throw new LeastSquaresFileError(
      node.file,
      `it has ${problem.shards.length} shards but workers is ${workers}`,
    );
  }
  return leastSquaresWorkerData(problem, rank);
}
