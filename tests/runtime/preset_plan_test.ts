/**
 * A plan that uses a preset carries its weights: the plan file of a pipeline that loaded a
 * preset runs, to the same parameters, after the preset is gone.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { run } from "../../mod.ts";
import { loadPlan } from "../../runtime/load_plan.ts";
import { planExpression } from "../../dsl/expression.ts";
import { SHARDS, tempRunFolder } from "./_plans.ts";

const MOD = new URL("../../mod.ts", import.meta.url).href;

Deno.test("a plan with a preset runs the same after the preset file is gone", async () => {
  const dir = await tempRunFolder();
  try {
    // Two pairs that average within themselves on even steps and across on odd ones.
    const pairs = [
      [[0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5], [0, 0, 0.5, 0.5]],
      [[0.5, 0, 0, 0.5], [0, 0.5, 0.5, 0], [0, 0.5, 0.5, 0], [0.5, 0, 0, 0.5]],
    ];
    await Deno.mkdir(join(dir, "presets"));
    await Deno.writeTextFile(
      join(dir, "presets", "pairs.json"),
      JSON.stringify({ name: "pairs", weights: pairs }),
    );
    await Deno.writeTextFile(
      join(dir, "pipeline.ts"),
      `import { fromFile, gossip, leastSquares, linear, sgd, train } from ${JSON.stringify(MOD)};
export default train(linear({ dim: 3 }))
  .data(leastSquares({ file: ${JSON.stringify(SHARDS.href)} }))
  .workers(4)
  .optimizer(sgd({ lr: 0.05 }))
  .base(gossip(fromFile("./presets/pairs.json")))
  .steps(8);
`,
    );
    const plan = await loadPlan(join(dir, "pipeline.ts"));
    const first = await run(plan, { transport: "memory", out: join(dir, "first") });
    await Deno.remove(join(dir, "presets"), { recursive: true });
    // The run folder's plan.json, shared alone.
    const again = await loadPlan(join(dir, "first", "plan.json"));
    assert.ok(again.base.kind === "gossip" && again.base.topology.kind === "custom");
    assert.deepEqual(again.base.topology.weights, pairs);
    // Printed as the expression, the weights are written out (the file is gone).
    assert.match(planExpression(again), /weights: \[\[\[0\.5, 0\.5, 0, 0\]/);
    const second = await run(again, { transport: "memory", out: join(dir, "second") });
    assert.deepEqual(second.params, first.params);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
