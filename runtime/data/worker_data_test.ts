import assert from "node:assert/strict";
import { allReduce, leastSquares, linear, mlp, mnist, sgd, synthetic, train } from "../../mod.ts";
import type { Plan } from "../../dsl/plan.ts";
import type { WorkerData } from "./types.ts";
import { loadWorkerData } from "./worker_data.ts";

/** Loads every rank's data. */
function all(plan: Plan): Promise<WorkerData[]> {
  return Promise.all(Array.from({ length: plan.workers }, (_, rank) => loadWorkerData(plan, rank)));
}

/** A pipeline with everything but the data. */
const start = train(mlp({ hidden: [8] })).workers(4).optimizer(sgd({ lr: 0.1 })).base(allReduce());

Deno.test("mnist worker data: shards partition the training set, one shared test set", async () => {
  const plan = start.data(mnist({ trainSize: 400, testSize: 100, batchSize: 16 })).compile();
  const data = await all(plan);
  assert.deepEqual(data.map((d) => d.shardSize), [100, 100, 100, 100]);
  for (const d of data) {
    assert.equal(d.test, data[0]!.test);
    assert.equal(d.test.size, 100);
    assert.equal(d.test.x.length, 100 * 784);
    const batch = d.batch(3);
    assert.equal(batch.size, 16);
    assert.equal(batch.x.length, 16 * 784);
    assert.ok(batch.y.every((label) => Number.isInteger(label) && label >= 0 && label <= 9));
  }
  // Deterministic: a second load gives the same batches.
  const again = await loadWorkerData(plan, 2);
  assert.deepEqual(again.batch(5), data[2]!.batch(5));
  assert.notDeepEqual(data[1]!.batch(5).x, data[2]!.batch(5).x);
  // A different seed gives a different split.
  const other = await loadWorkerData(
    start.data(mnist({ trainSize: 400, testSize: 100 })).seed(99).compile(),
    0,
  );
  assert.notDeepEqual(other.test.y, data[0]!.test.y);
});

Deno.test("mnist worker data: a byLabel partition limits each worker's classes", async () => {
  const plan = start.data(
    mnist({
      trainSize: 800,
      testSize: 100,
      batchSize: 50,
      partition: "byLabel",
      classesPerWorker: 2,
    }),
  ).compile();
  for (const d of await all(plan)) {
    const labels = new Set<number>();
    for (let k = 0; k < 10; k++) for (const label of d.batch(k).y) labels.add(label);
    assert.equal(labels.size, 2);
  }
});

Deno.test("synthetic worker data: node seed overrides the plan seed for the data only", async () => {
  const options = { features: 4, classes: 3, trainSize: 64, testSize: 16, batchSize: 8 };
  const plan = start.data(synthetic(options)).compile();
  const [a, b] = await all(plan);
  assert.equal(a!.shardSize, 16);
  assert.deepEqual(a!.test, b!.test);
  const seeded = start.data(synthetic({ ...options, seed: 5 })).compile();
  const reseeded = start.data(synthetic({ ...options, seed: 5 })).seed(6).compile();
  const [x] = await all(seeded);
  const [y] = await all(reseeded);
  assert.deepEqual(x!.test, y!.test); // same data
  assert.notDeepEqual(x!.batch(0).y, y!.batch(0).y); // different batch order
});

Deno.test("least-squares worker data and bad ranks", async () => {
  const file = new URL("../../examples/data/least_squares_4.json", import.meta.url);
  const plan = train(linear({ dim: 3 })).data(leastSquares({ file })).workers(4)
    .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
  const data = await loadWorkerData(plan, 3);
  assert.deepEqual([...data.batch(0).y], [0, 6, 1]);
  await assert.rejects(() => loadWorkerData(plan, 4), RangeError);
});
