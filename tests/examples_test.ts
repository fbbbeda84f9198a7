import assert from "node:assert/strict";
import { validatePlan } from "../dsl/validate.ts";
import { exampleFiles } from "../cli/examples_command.ts";
import { parseSettings } from "../cli/experiment_command.ts";
import { loadPlan } from "../runtime/load_plan.ts";
import { isPipeline } from "../dsl/train.ts";
import { join } from "node:path";
import { gossamer, ROOT, STACK_LINE } from "./_cli.ts";

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

Deno.test("gossamer examples --smoke runs every example for a few steps", async () => {
  const result = await gossamer("examples", "--smoke");
  assert.equal(result.code, 0, result.stderr);
  const ran = result.stdout.split("\n").filter((line) => /ran \d+ steps in/.test(line));
  assert.equal(ran.length, (await exampleFiles()).length, result.stdout);
  assert.match(result.stdout, /virtual_256\.ts .*--transport memory --clock virtual/);
});

Deno.test("a smoke run that fails names the example and exits 1", async () => {
  const folder = await Deno.makeTempDir({ prefix: "gossamer_smoke_test_" });
  try {
    const mod = new URL("mod.ts", ROOT).href;
    await Deno.writeTextFile(
      join(folder, "model.js"),
      `export default () => { throw new Error("this model cannot be built"); };`,
    );
    await Deno.writeTextFile(
      join(folder, "broken.ts"),
      `import { allReduce, custom, mnist, sgd, train } from "${mod}";
export default train(custom({ module: "./model.js" })).data(mnist({ trainSize: 64, testSize: 32 }))
  .workers(2).optimizer(sgd({ lr: 0.1 })).base(allReduce()).steps(4);
`,
    );
    const result = await gossamer("examples", folder, "--smoke");
    assert.equal(result.code, 1);
    assert.match(result.stdout, /broken\.ts .* FAILED/);
    assert.match(result.stderr, /1 examples failed:\nbroken\.ts: .*this model cannot be built/);
    assert.doesNotMatch(result.stderr, STACK_LINE);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("the demo pipelines compile: MNIST for `deno task demo`, the transformer for `demo:lm`", async () => {
  for (const [folder, model] of [["demo", "mlp"], ["demo_lm", "transformer"]] as const) {
    const files = await exampleFiles(new URL(`../examples/${folder}/`, import.meta.url));
    assert.ok(files.length >= 2, `${folder}: ${files.join(", ")}`);
    for (const file of files) assert.equal((await loadPlan(file)).model.kind, model, file);
  }
});

Deno.test("gossamer examples <folder> says how to run that folder's pipelines, and an experiment whole", async () => {
  const folder = "examples/experiments/cada_logistic";
  const result = await gossamer("examples", folder);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`Run one with: deno task gossamer run ${folder}/<file>`));
  assert.match(result.stdout, new RegExp(`deno task gossamer examples ${folder} --smoke`));
  assert.match(
    result.stdout,
    new RegExp(`run the experiment and compare: deno task gossamer experiment ${folder}$`, "m"),
  );
  const cut = await gossamer("examples", "exp");
  assert.equal(cut.code, 1);
  assert.match(
    cut.stderr,
    /Cannot read examples folder "exp" \(to run the experiments of examples\/experiments\/: deno task gossamer experiments\)/,
  );
});
