import assert from "node:assert/strict";
import {
  allReduce,
  cnn,
  leastSquares,
  linear,
  logistic,
  mlp,
  mnist,
  sgd,
  synthetic,
  text,
  train,
  transformer,
} from "../../mod.ts";
import type { Plan } from "../../dsl/plan.ts";
import { modelVariables } from "../../dsl/shapes.ts";
import { selectBackend } from "../backend.ts";
import { createModel } from "./create_model.ts";

const SHARDS = new URL("../../examples/data/least_squares_4.json", import.meta.url);

/** A plan with the given model and data. */
function plan(model: Plan["model"], data: Plan["data"]): Plan {
  return {
    ...train(mlp({ hidden: [1] })).data(mnist()).workers(4).optimizer(sgd({ lr: 0.1 }))
      .base(allReduce()).compile(),
    model,
    data,
  };
}

Deno.test("the plan's variable sizes are the built model's tensors, in order (streamingDiloco's fragments)", async () => {
  const ready = selectBackend("cpu");
  const cases: Plan[] = [
    plan(logistic(), mnist()),
    plan(mlp({ hidden: [16, 8] }), mnist()),
    plan(cnn(), mnist()),
    plan(linear({ dim: 3 }), leastSquares({ file: SHARDS })),
    plan(linear({ dim: 6 }), synthetic({ task: "regression", features: 6 })),
    plan(transformer({ layers: 2, dModel: 8, heads: 2, context: 8 }), text()),
  ];
  for (const p of cases) {
    const model = await createModel(p, ready);
    try {
      const built = model.tensors.map((tensor) => tensor.shape.reduce((a, b) => a * b, 1));
      assert.deepEqual(modelVariables(p.model, p.data), built, p.model.kind);
    } finally {
      model.dispose();
    }
  }
});
