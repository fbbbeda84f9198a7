import assert from "node:assert/strict";
import { join } from "node:path";
import { loadPlan } from "./load_plan.ts";
import { run } from "./coordinator/run.ts";

const MOD = new URL("../mod.ts", import.meta.url).href;
const SHARDS = new URL("../examples/data/least_squares_4.json", import.meta.url);

/** A project folder: a pipeline naming its data relative to itself, and the data. */
async function project(root: string): Promise<string> {
  await Deno.mkdir(join(root, "project", "data"), { recursive: true });
  await Deno.copyFile(SHARDS, join(root, "project", "data", "shards.json"));
  const pipeline = join(root, "project", "pipeline.ts");
  await Deno.writeTextFile(
    pipeline,
    `import { allReduce, leastSquares, linear, sgd, train } from "${MOD}";
export default train(linear({ dim: 3 })).data(leastSquares({ file: "./data/shards.json" }))
  .workers(4).optimizer(sgd({ lr: 0.05 })).base(allReduce()).steps(3).evalEvery(3);
`,
  );
  return pipeline;
}

Deno.test("file references resolve against the pipeline file, and run folders in the project keep them relative", async () => {
  const root = await Deno.makeTempDir({ prefix: "gossamer_refs_" });
  const moved = `${root}_moved`;
  try {
    // `root` is a project (it holds deno.json) with the pipeline, its data and its runs.
    await Deno.writeTextFile(join(root, "deno.json"), "{}\n");
    const pipeline = await project(root);
    const plan = await loadPlan(pipeline);
    const file = (p: typeof plan) => p.data.kind === "leastSquares" ? p.data.file : null;
    // Not the working directory: the folder of the pipeline.
    assert.equal(file(plan), join(root, "project", "data", "shards.json"));
    await run(plan, { transport: "memory", out: join(root, "runs", "one") });
    const stored = JSON.parse(await Deno.readTextFile(join(root, "runs", "one", "plan.json")));
    assert.equal(stored.data.file, "../../project/data/shards.json");
    // The project and its runs move together; the run's plan still finds its data.
    await Deno.rename(root, moved);
    const again = await loadPlan(join(moved, "runs", "one", "plan.json"));
    assert.equal(file(again), join(moved, "project", "data", "shards.json"));
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
    await Deno.remove(moved, { recursive: true }).catch(() => {});
  }
});

Deno.test("a run folder outside the project names the project's files by absolute path and can move on its own", async () => {
  const root = await Deno.makeTempDir({ prefix: "gossamer_refs_" });
  try {
    // Two projects side by side: the pipeline's, and another that holds the run folder.
    await Deno.mkdir(join(root, "project"));
    await Deno.writeTextFile(join(root, "project", "deno.json"), "{}\n");
    await Deno.mkdir(join(root, "elsewhere"));
    await Deno.writeTextFile(join(root, "elsewhere", "package.json"), "{}\n");
    const plan = await loadPlan(await project(root));
    const data = join(root, "project", "data", "shards.json");
    await run(plan, { transport: "memory", out: join(root, "elsewhere", "runs", "one") });
    const stored = JSON.parse(
      await Deno.readTextFile(join(root, "elsewhere", "runs", "one", "plan.json")),
    );
    // Not "../../../project/data/shards.json", although both projects share a parent.
    assert.equal(stored.data.file, data);
    await Deno.rename(join(root, "elsewhere", "runs", "one"), join(root, "one"));
    const again = await loadPlan(join(root, "one", "plan.json"));
    assert.equal(again.data.kind === "leastSquares" && again.data.file, data);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
