import assert from "node:assert/strict";
import { validatePlan } from "../dsl/validate.ts";
import { exampleFiles } from "../cli/examples_command.ts";
import { loadPlan } from "../runtime/load_plan.ts";
import { isPipeline } from "../dsl/train.ts";

Deno.test("every example compiles and survives a JSON round trip unchanged", async (t) => {
  const files = await exampleFiles();
  assert.ok(files.length >= 10, `expected the examples folder, found ${files.length} files`);
  for (const file of files) {
    await t.step(file.split("/").at(-1)!, async () => {
      const plan = await loadPlan(file);
      assert.ok(Object.isFrozen(plan));
      const copy = JSON.parse(JSON.stringify(plan));
      assert.deepEqual(copy, plan);
      assert.deepEqual(validatePlan(copy), []);
      if (file.endsWith(".ts")) {
        const module = await import(`file://${file}`);
        assert.ok(isPipeline(module.default));
        assert.deepEqual(module.default.compile(), plan);
      }
    });
  }
});
