/**
 * `adamw()` and `clipNorm` in the plan layer: defaults, the printed DSL form, plan JSON, the
 * range of `clipNorm`, and the bases and compressors that refuse Adam refusing AdamW alike.
 */

import { deepEqual, equal } from "node:assert/strict";
import {
  adam,
  adamw,
  allReduce,
  cada,
  cosine,
  decentLaM,
  dmSgd,
  linear,
  localSgd,
  type OptimizerNode,
  parsePlan,
  type Plan,
  planExpression,
  ring,
  sgd,
  sketchedSgd,
  synthetic,
  train,
  validatePlan,
  warmup,
} from "../../mod.ts";
import { compileIssues } from "../_testing.ts";

/** A regression pipeline waiting for its optimizer. */
function regression() {
  return train(linear({ dim: 4 })).data(synthetic({ task: "regression", features: 4 })).workers(
    4,
  );
}

Deno.test("adamw's defaults are those of docs/algorithms.md §0.1", () => {
  deepEqual(adamw({ lr: 3e-4 }), {
    kind: "adamw",
    lr: { kind: "constant", lr: 3e-4 },
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    weightDecay: 0.1,
  });
  // Every optimizer takes clipNorm, off (the key absent) by default.
  for (const node of [sgd({ lr: 0.1 }), adam({ lr: 0.1 }), adamw({ lr: 0.1 })]) {
    equal("clipNorm" in node, false, node.kind);
  }
  equal(sgd({ lr: 0.1, clipNorm: 2 }).clipNorm, 2);
});

Deno.test("adamw prints as the DSL that builds it, defaults left out", () => {
  const plan = regression()
    .optimizer(adamw({
      lr: warmup({ steps: 10, then: cosine({ lr: 3e-4, minLr: 3e-5 }) }),
      beta2: 0.95,
      weightDecay: 0.05,
      clipNorm: 1,
    }))
    .base(localSgd({ tau: 8, buffers: "reset" }))
    .compile();
  equal(
    planExpression(plan),
    [
      "train(linear({ dim: 4 }))",
      '  .data(synthetic({ task: "regression", features: 4 }))',
      "  .workers(4)",
      "  .optimizer(adamw({ lr: warmup({ steps: 10, then: cosine({ lr: 0.0003, minLr: 0.00003 }) }), " +
      "weightDecay: 0.05, clipNorm: 1 }))",
      '  .base(localSgd({ tau: 8, buffers: "reset" }))',
    ].join("\n"),
  );
  const sgdPlan = regression().optimizer(sgd({ lr: 0.1, clipNorm: 0.5 })).base(allReduce())
    .compile();
  equal(planExpression(sgdPlan).split("\n")[3], "  .optimizer(sgd({ lr: 0.1, clipNorm: 0.5 }))");
});

Deno.test("a plan with adamw survives JSON and validates as a plan file", () => {
  const plan = regression().optimizer(adamw({ lr: 1e-3, clipNorm: 1 })).base(allReduce())
    .compile();
  const json = JSON.parse(JSON.stringify(plan));
  deepEqual(validatePlan(json), []);
  deepEqual(parsePlan(json), plan);
  // Strict like every node: an unknown key names the one it probably meant.
  deepEqual(
    validatePlan({ ...json, optimizer: { ...json.optimizer, weigthDecay: 0.1 } }).map((
      issue,
    ) => [issue.path, issue.message]),
    [["optimizer.weigthDecay", 'unknown key; did you mean "weightDecay"?']],
  );
  // A plan file written before clipNorm existed lacks the key: it loads as a plan without
  // clipping, unchanged, so its hash (and its checkpoints) stay valid.
  const { clipNorm: _, ...older } = json.optimizer;
  const olderPlan = { ...json, optimizer: older };
  deepEqual(validatePlan(olderPlan), []);
  deepEqual(parsePlan(olderPlan), olderPlan);
});

Deno.test("clipNorm must be a finite number greater than 0, on every optimizer", () => {
  const plan = regression().optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
  for (const optimizer of [sgd({ lr: 0.1 }), adam({ lr: 0.1 }), adamw({ lr: 0.1 })]) {
    for (
      const [clipNorm, message] of [
        [0, "must be greater than 0"],
        [-1, "must be greater than 0"],
        [Infinity, "must be a finite number"],
        [Number.NaN, "wrong type"],
      ] as const
    ) {
      const issues = validatePlan({ ...plan, optimizer: { ...optimizer, clipNorm } });
      deepEqual(
        issues.map((issue) => [issue.path, issue.message]),
        [["optimizer.clipNorm", message]],
        `${optimizer.kind} clipNorm ${clipNorm}`,
      );
    }
  }
  // The factory's value reaches the same check.
  deepEqual(
    compileIssues(regression().optimizer(adamw({ lr: 0.1, clipNorm: 0 })).base(allReduce())).map((
      issue,
    ) => issue.path),
    ["optimizer.clipNorm"],
  );
});

Deno.test("adamw is refused where adam is: bases and compressors with their own momentum", () => {
  const anyOptimizer = adamw({ lr: 0.01 }) as OptimizerNode;
  const refused = (pipeline: { compile(): Plan }) =>
    compileIssues(pipeline).map((issue) => [issue.path, issue.expected, issue.received]);
  const expected = [["optimizer", "sgd", '"adamw"']];
  deepEqual(refused(regression().optimizer(anyOptimizer).base(dmSgd(ring))), expected);
  deepEqual(refused(regression().optimizer(anyOptimizer).base(decentLaM(ring))), expected);
  deepEqual(refused(regression().optimizer(anyOptimizer).base(cada({ c: 1 }))), expected);
  deepEqual(
    refused(regression().optimizer(anyOptimizer).base(allReduce()).compress(sketchedSgd({ k: 2 }))),
    expected,
  );
  // Every base that takes a local optimizer takes adamw.
  deepEqual(refused(regression().optimizer(anyOptimizer).base(localSgd({ tau: 2 }))), []);
  // Plain SGD with clipping is plain SGD: CADA and the momentum bases take it.
  deepEqual(
    refused(regression().optimizer(sgd({ lr: 0.1, clipNorm: 1 })).base(cada({ c: 1 }))),
    [],
  );
});
