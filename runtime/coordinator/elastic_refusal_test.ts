/**
 * Elastic plans are declared and explained, but this version does not run them: `run()` refuses
 * one before anything starts, with a message that says so, and leaves no run folder behind.
 */

import { equal, rejects } from "node:assert/strict";
import { allReduce, leastSquares, linear, network, run, RunError, sgd, train } from "../../mod.ts";

const pipeline = () =>
  train(linear({ dim: 3 }))
    .data(
      leastSquares({ file: new URL("../../examples/data/least_squares_4.json", import.meta.url) }),
    )
    .workers(4)
    .optimizer(sgd({ lr: 0.05 }))
    .base(allReduce())
    .steps(20);

Deno.test("run() refuses an elastic plan, naming .elastic, and writes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_elastic_run_" });
  try {
    for (
      const plan of [
        pipeline().elastic({ minWorkers: 3 }).compile(),
        pipeline().elastic({ minWorkers: 2 })
          .network(network({ failures: [{ worker: 1, leaveAt: 5, joinAt: 10 }] })).compile(),
      ]
    ) {
      await rejects(
        run(plan, { transport: "memory", out: `${dir}/run` }),
        (error: unknown) =>
          error instanceof RunError &&
          error.message ===
            "Cannot run the plan: elastic training (.elastic) is declared but this version does not run it yet",
      );
    }
    equal([...Deno.readDirSync(dir)].length, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
