import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { LeastSquaresFileError } from "./least_squares_file.ts";
import { leastSquaresWorkerData, loadLeastSquaresData } from "./least_squares.ts";

const SHARDS = fileURLToPath(new URL("../../examples/data/least_squares_4.json", import.meta.url));

Deno.test("least squares: every batch is the full shard; the test set stacks all shards", async () => {
  const data = await loadLeastSquaresData({ kind: "leastSquares", file: SHARDS }, 1, 4);
  assert.equal(data.shardSize, 3);
  const batch = data.batch(0);
  assert.deepEqual([...batch.x], [1, 1, 0, 0, 2, 1, 1, 0, 1]);
  assert.deepEqual([...batch.y], [1, 4, 0]);
  assert.equal(batch.size, 3);
  assert.equal(data.batch(17), batch);
  assert.equal(data.test.size, 12);
  assert.equal(data.test.x.length, 36);
  assert.deepEqual([...data.test.y], [3, 1, 2, 1, 4, 0, 2, 2, 5, 0, 6, 1]);
});

Deno.test("least squares: shard count and rank are checked", async () => {
  await assert.rejects(
    () => loadLeastSquaresData({ kind: "leastSquares", file: SHARDS }, 0, 3),
    (error: unknown) =>
      error instanceof LeastSquaresFileError && /4 shards but workers is 3/.test(error.message),
  );
  await assert.rejects(
    () => loadLeastSquaresData({ kind: "leastSquares", file: "missing.json" }, 0, 1),
    LeastSquaresFileError,
  );
  assert.throws(
    () => leastSquaresWorkerData({ dim: 1, shards: [{ A: [[1]], b: [1] }] }, 1),
    RangeError,
  );
});
