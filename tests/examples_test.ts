import assert from "node:assert/strict";
import { validatePlan } from "../dsl/validate.ts";
import { exampleFiles } from "../cli/examples_command.ts";
import { parseSettings } from "../cli/experiment_command.ts";
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

Deno.test("every experiment pipeline compiles, and its experiment.json names known options", async (t) => {
  const root = new URL("../examples/experiments/", import.meta.url);
  const folders: string[] = [];
  for await (const entry of Deno.readDir(root)) if (entry.isDirectory) folders.push(entry.name);
  assert.ok(folders.length >= 3, `expected the experiments, found ${folders.join(", ")}`);
  for (const folder of folders.sort()) {
    await t.step(folder, async () => {
      const url = new URL(`${folder}/`, root);
      const files = (await exampleFiles(url)).filter((file) => !file.endsWith("experiment.json"));
      assert.ok(files.length >= 2, "an experiment compares at least two pipelines");
      for (const file of files) assert.deepEqual(validatePlan(await loadPlan(file)), []);
      const settings = JSON.parse(await Deno.readTextFile(new URL("experiment.json", url)));
      parseSettings(settings, `${folder}/experiment.json`);
    });
  }
});
