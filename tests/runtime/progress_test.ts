/**
 * `onProgress` for scripts and notebooks: one call per step per worker, none for evaluations or
 * repeated metrics, each naming the worker and its step, with the virtual clock's simulated time
 * of that step (the `virtualMs` of its line in `metrics.jsonl`), or `null` on the real clock.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  allReduce,
  gossip,
  logistic,
  network,
  type Progress,
  ring,
  run,
  sgd,
  synthetic,
  train,
} from "../../mod.ts";
import { readRun } from "../../mod.ts";
import type { MetricsLine, StepLine } from "../../runtime/metrics.ts";
import { RunTotals } from "../../runtime/coordinator/run_totals.ts";
import { zeroBytes } from "../../dsl/traffic.ts";

const WORKERS = 4;
const STEPS = 6;

const pipeline = train(logistic())
  .data(
    synthetic({ task: "classification", features: 8, classes: 3, trainSize: 256, testSize: 64 }),
  )
  .workers(WORKERS)
  .optimizer(sgd({ lr: 0.1 }))
  .steps(STEPS)
  .evalEvery(2);

/** Runs `plan` in memory with `clock`, collecting every progress call. */
async function progressOf(
  plan: ReturnType<typeof pipeline.compile>,
  clock: "real" | "virtual",
): Promise<{ calls: Progress[]; folder: string; parent: string }> {
  const parent = await Deno.makeTempDir({ prefix: "gossamer_progress_" });
  const calls: Progress[] = [];
  const result = await run(plan, {
    transport: "memory",
    clock,
    out: join(parent, "run"),
    onProgress: (progress) => calls.push(progress),
  });
  assert.equal(result.summary.status, "completed");
  return { calls, folder: result.folder, parent };
}

Deno.test("onProgress: once per step per worker, with the step's simulated time on the virtual clock", async () => {
  const plan = pipeline.base(gossip(ring)).network(network({ latency: "1ms", computeMs: 5 }))
    .compile();
  const { calls, folder, parent } = await progressOf(plan, "virtual");
  try {
    assert.equal(calls.length, WORKERS * STEPS);
    const keys = calls.map((call) => `${call.worker}:${call.workerStep}`);
    assert.equal(new Set(keys).size, keys.length, "no worker's step is reported twice");
    // Each call carries exactly the simulated time its worker's line in metrics.jsonl holds.
    const { metrics, summary } = await readRun(folder);
    const expected = new Map<string, number | undefined>();
    for (const line of metrics) {
      if (line.type === "step") expected.set(`${line.worker}:${line.step + 1}`, line.virtualMs);
    }
    assert.equal(expected.size, WORKERS * STEPS);
    for (const call of calls) {
      assert.equal(call.simulatedMs, expected.get(`${call.worker}:${call.workerStep}`));
      // With 5 ms of compute a step, a worker's simulated time is at least 5 ms a step.
      assert.ok(call.simulatedMs! >= 5 * call.workerStep, `${call.simulatedMs}`);
    }
    // The last call of each worker is its last step; the latest of them is the run's time.
    const last = Math.max(...calls.map((call) => call.simulatedMs!));
    assert.equal(last, summary!.virtualTimeMs);
    assert.equal(calls.at(-1)!.step, STEPS);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("onProgress on the real clock: the same calls, with no simulated time", async () => {
  const { calls, parent } = await progressOf(pipeline.base(allReduce()).compile(), "real");
  try {
    assert.equal(calls.length, WORKERS * STEPS);
    for (let rank = 0; rank < WORKERS; rank++) {
      const own = calls.filter((call) => call.worker === rank).map((call) => call.workerStep);
      assert.deepEqual(own, [1, 2, 3, 4, 5, 6]);
    }
    assert.ok(calls.every((call) => call.simulatedMs === null));
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("onProgress in an elastic run: the survivors report every step, the leaver its own", async () => {
  const plan = pipeline.base(allReduce()).steps(12).elastic({ minWorkers: 3 })
    .network(network({ failures: [{ worker: 2, leaveAt: 5 }] })).compile();
  const { calls, folder, parent } = await progressOf(plan, "real");
  try {
    const keys = calls.map((call) => `${call.worker}:${call.workerStep}`);
    assert.equal(new Set(keys).size, keys.length, "no worker's step is reported twice");
    // Exactly the (worker, step) pairs metrics.jsonl has step lines for.
    const { metrics } = await readRun(folder);
    const pairs = metrics.filter((line) => line.type === "step")
      .map((line) => `${line.worker}:${line.step + 1}`);
    assert.deepEqual(new Set(keys), new Set(pairs));
    for (const rank of [0, 1, 3]) {
      const own = calls.filter((call) => call.worker === rank).map((call) => call.workerStep);
      assert.deepEqual(own, Array.from({ length: 12 }, (_, i) => i + 1));
    }
    const leaver = calls.filter((call) => call.worker === 2).map((call) => call.workerStep);
    // leaveAt 5 is 1-based: step index 4 is the first without worker 2, which did four.
    assert.deepEqual(leaver, [1, 2, 3, 4]);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

/** A step line of `worker` at `step`, with nothing sent. */
function stepLine(worker: number, step: number): StepLine {
  return {
    type: "step",
    step,
    worker,
    loss: 1,
    lr: 0.1,
    computeMs: 1,
    commMs: 0,
    elapsedMs: step,
    bytesSent: zeroBytes(),
    bytesReceived: zeroBytes(),
  };
}

Deno.test("a step a worker redoes after a rewind (TCP elastic runs) is not reported again", () => {
  const totals = new RunTotals(2, 6);
  const reported = (line: MetricsLine) => totals.addReported(line);
  assert.deepEqual([0, 1, 2, 3].map((step) => reported(stepLine(0, step))), [
    true,
    true,
    true,
    true,
  ]);
  assert.deepEqual([0, 1].map((step) => reported(stepLine(1, step))), [true, true]);
  // Worker 1 is lost after step 1; the survivor goes back to step 2 and redoes it.
  assert.equal(
    reported(
      { type: "membership", step: 2, worker: 0, left: [1], members: [0], reason: "lost" },
    ),
    false,
  );
  assert.deepEqual([2, 3, 4, 5].map((step) => reported(stepLine(0, step))), [
    false,
    false,
    true,
    true,
  ]);
  // The progress names the worker and its steps; the run's step is the survivor's.
  assert.deepEqual(
    { ...totals.progress(stepLine(0, 5)), elapsedMs: 0, etaMs: 0 },
    {
      worker: 0,
      workerStep: 6,
      simulatedMs: null,
      step: 6,
      steps: 6,
      loss: 1,
      accuracy: null,
      bytesPerWorker: 0,
      elapsedMs: 0,
      etaMs: 0,
    },
  );
});
