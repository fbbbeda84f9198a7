import assert from "node:assert/strict";
import {
  allReduce,
  cnn,
  custom,
  leastSquares,
  linear,
  logistic,
  mlp,
  mnist,
  sgd,
  synthetic,
  train,
} from "../../mod.ts";
import type { Plan } from "../../dsl/plan.ts";
import { parameterCount } from "../../dsl/shapes.ts";
import { selectBackend } from "../backend.ts";
import { createModel } from "./create_model.ts";

const ready = selectBackend("wasm");
const SHARDS = new URL("../../examples/data/least_squares_4.json", import.meta.url);

/** A plan with the given model and data on 4 workers. */
function plan(model: Plan["model"], data: Plan["data"]): Plan {
  return {
    ...train(mlp({ hidden: [1] })).data(mnist()).workers(4).optimizer(sgd({ lr: 0.1 })).base(
      allReduce(),
    ).compile(),
    model,
    data,
  };
}

Deno.test("createModel builds every model kind with the plan's parameter count", async () => {
  const cases: Plan[] = [
    plan(logistic(), mnist()),
    plan(mlp({ hidden: [128] }), mnist()),
    plan(cnn(), mnist()),
    plan(mlp({ hidden: [5, 3], activation: "sigmoid" }), synthetic({ features: 6, classes: 4 })),
    plan(linear({ dim: 3 }), leastSquares({ file: SHARDS })),
    plan(linear({ dim: 6, init: "random" }), synthetic({ task: "regression", features: 6 })),
  ];
  for (const p of cases) {
    const model = await createModel(p, ready);
    try {
      assert.equal(model.parameterCount, parameterCount(p.model, p.data), p.model.kind);
      assert.equal(model.initialParameters(p.seed).length, model.parameterCount);
    } finally {
      model.dispose();
    }
  }
});

Deno.test("createModel: a linear model must fit its data", async () => {
  await assert.rejects(
    () => createModel(plan(linear({ dim: 4 }), leastSquares({ file: SHARDS })), ready),
    /Linear dim 4 does not match the 3 columns of A/,
  );
  await assert.rejects(
    () => createModel(plan(linear({ dim: 784 }), mnist()), ready),
    /linear model needs regression data/,
  );
});

Deno.test("createModel: custom modules build models, and their failures are reported", async () => {
  const path = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      path,
      `export default ({ inputShape, classes, tf }) => tf.sequential({ layers: [
        tf.layers.flatten({ inputShape }), tf.layers.dense({ units: classes }) ] });`,
    );
    const model = await createModel(plan(custom({ module: path }), mnist()), ready);
    assert.equal(model.parameterCount, 7850);
    model.dispose();
  } finally {
    await Deno.remove(path);
  }
  const throwing = new URL("../../tests/fixtures/throwing_model.ts", import.meta.url);
  await assert.rejects(
    () => createModel(plan(custom({ module: throwing }), mnist()), ready),
    /throwing_model\.ts" export "default": the builder failed: the model builder exploded/,
  );
});
