/**
 * The coordinator does not trust members' results (issue 20, item 8): a forged `done` with NaN
 * parameters, a vector of the wrong length or a model after too few steps fails the run naming
 * the worker. The forgeries are made from a real run's final models and step counts, and fed to
 * the coordinator's check (`resultProblem`) as the rendezvous hands them over.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { run } from "../../mod.ts";
import { resultProblem } from "../../runtime/coordinator/check_results.ts";
import { leastSquaresPlans, readMetrics, tempRunFolder } from "./_plans.ts";

Deno.test("forged final models are refused naming the worker; the real ones pass", async () => {
  const plan = leastSquaresPlans(12).allReduce!;
  const parent = await tempRunFolder();
  try {
    const result = await run(plan, { transport: "memory", out: join(parent, "run") });
    assert.equal(result.summary.status, "completed");
    const models = result.params.workers.map((model) => Float32Array.from(model!));
    // Steps per worker, counted independently from the metrics file.
    const lines = await readMetrics(join(parent, "run"));
    const steps = (rank: number) =>
      lines.filter((line) => line.type === "step" && line.worker === rank).length;
    assert.deepEqual([0, 1, 2, 3].map(steps), [12, 12, 12, 12]);
    assert.equal(resultProblem(plan, models, steps), null);

    const nan = models.map((model) => model.slice());
    nan[2]![1] = NaN;
    assert.equal(
      resultProblem(plan, nan, steps),
      "Worker 2 reported a final model holding NaN (parameter 1)",
    );
    const infinite = models.map((model) => model.slice());
    infinite[3]![0] = -Infinity;
    assert.match(resultProblem(plan, infinite, steps)!, /^Worker 3 .* holding -Infinity/);
    const short = [...models];
    short[1] = new Float32Array(7).fill(0.5);
    assert.equal(
      resultProblem(plan, short, steps),
      `Worker 1 reported a final model of 7 values; the plan's model has ${
        models[0]!.length
      } parameters`,
    );
    // Every worker forged the same wrong length: the plan, not rank 0, says what is right.
    const allShort = models.map((model) => model.subarray(0, 2));
    assert.match(
      resultProblem(plan, allShort, steps)!,
      /^Worker 0 reported a final model of 2 values/,
    );
    assert.equal(
      resultProblem(plan, models, (rank) => rank === 0 ? 3 : steps(rank)),
      "Worker 0 reported a final model after 3 of 12 steps",
    );
    assert.match(resultProblem(plan, models.slice(0, 3), steps)!, /3 final models for 4 workers/);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
