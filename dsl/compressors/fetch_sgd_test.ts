import { deepEqual, equal } from "node:assert/strict";
import {
  adam,
  allReduce,
  cosine,
  explainPlan,
  fetchSgd,
  linear,
  localSgd,
  sgd,
  synthetic,
  train,
} from "../../mod.ts";
import { compileIssues } from "../_testing.ts";

/** Regression with a 4-weight linear model on 4 workers, before the optimizer. */
function regression() {
  return train(linear({ dim: 4 }))
    .data(synthetic({ task: "regression", features: 4 }))
    .workers(4);
}

/** The paths and messages of a pipeline's issues. */
function problems(pipeline: { compile(): unknown }): string[] {
  return compileIssues(pipeline).map((found) => `${found.path}: ${found.message}`);
}

Deno.test("fetchSgd compiles over allReduce with plain sgd, weight decay and a schedule", () => {
  const plan = regression().optimizer(sgd({ lr: cosine({ lr: 0.1 }), weightDecay: 0.01 })).base(
    allReduce(),
  )
    .compress(fetchSgd({ cols: 3, k: 2 }));
  deepEqual(problems(plan), []);
});

Deno.test("fetchSgd's options are checked: k against d, rows and cols from 1, rho in [0, 1)", () => {
  const start = regression().optimizer(sgd({ lr: 0.1 })).base(allReduce());
  deepEqual(problems(start.compress(fetchSgd({ cols: 3, k: 5 }))), [
    "compress.k: fetchSgd k 5 is larger than the model's 4 parameters",
  ]);
  deepEqual(problems(start.compress(fetchSgd({ cols: 0, k: 2, rows: 0, rho: 1 }))), [
    "compress.rows: must be at least 1",
    "compress.cols: must be at least 1",
    "compress.rho: must be less than 1",
  ]);
  deepEqual(problems(start.compress(fetchSgd({ cols: 3, k: 1.5 }))), [
    "compress.k: must be an integer",
  ]);
});

Deno.test("fetchSgd takes plain sgd without momentum or clipping, and only allReduce", () => {
  const reason =
    "fetchSgd applies its own momentum (rho) and learning rate: use sgd without momentum";
  const node = fetchSgd({ cols: 3, k: 2 });
  deepEqual(
    problems(
      regression().optimizer(sgd({ lr: 0.1, momentum: 0.9 })).base(allReduce()).compress(node),
    ),
    [`optimizer.momentum: ${reason}`],
  );
  deepEqual(
    problems(regression().optimizer(adam({ lr: 0.1 })).base(allReduce()).compress(node)),
    [`optimizer: ${reason}`],
  );
  deepEqual(
    problems(
      regression().optimizer(sgd({ lr: 0.1, clipNorm: 1 })).base(allReduce()).compress(node),
    ),
    [
      "optimizer.clipNorm: fetchSgd applies its update itself from summed sketches, so no mean " +
      "gradient exists to clip: remove clipNorm",
    ],
  );
  deepEqual(
    problems(regression().optimizer(sgd({ lr: 0.1 })).base(localSgd({ tau: 2 })).compress(node)),
    ["compress: fetchSgd cannot compress what localSgd sends: it supports allReduce"],
  );
});

Deno.test("explainPlan: fetchSgd all-reduces rows·cols floats per step, nothing more", () => {
  const plan = train(linear({ dim: 1000 }))
    .data(synthetic({ task: "regression", features: 1000 }))
    .workers(8)
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .compress(fetchSgd({ rows: 5, cols: 100, k: 10 }))
    .compile();
  // A ring all-reduce of 500 floats among 8: 2·7/8 · 500 · 4 bytes.
  deepEqual(explainPlan(plan).bytesPerStep, {
    base: 0,
    outer: 0,
    compressed: 3500,
    control: 0,
    state: 0,
  });
  equal(explainPlan(plan).allReduceBytesPerStep, 2 * 7 / 8 * 1000 * 4);
});
