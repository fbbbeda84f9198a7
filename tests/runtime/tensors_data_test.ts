import assert from "node:assert/strict";
import { join } from "node:path";
import { allReduce, linear, localSgd, mlp, run, sgd, tensors, train } from "../../mod.ts";
import { npyBytes, zipBytes } from "../../runtime/data/_array_files.ts";
import { readMetrics, tempRunFolder } from "./_plans.ts";

/**
 * 200 examples of 4 features in two classes: class c's features are `±1.5` (plus for class 1)
 * plus a deterministic wobble of at most 0.5, so a hyperplane separates them with margin.
 */
function separable(): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 200; i++) {
    const label = i % 2;
    y.push(label);
    for (let j = 0; j < 4; j++) x.push((label === 1 ? 1.5 : -1.5) + 0.5 * Math.sin(7 * i + 3 * j));
  }
  return { x, y };
}

/** The eval lines of the averaged model, by step. */
async function evals(folder: string): Promise<{ step: number; loss: number; acc: number }[]> {
  return (await readMetrics(folder))
    .filter((line) => line.type === "eval" && line.model === "average")
    .map((line) => ({
      step: line.step as number,
      loss: line.testLoss as number,
      acc: line.testAccuracy as number,
    }));
}

Deno.test("an mlp trains on a user's .npz through the real runtime: test loss falls and accuracy nears 1", async () => {
  const folder = await tempRunFolder();
  try {
    const { x, y } = separable();
    const file = join(folder, "data.npz");
    await Deno.writeFile(
      file,
      await zipBytes([
        ["x.npy", npyBytes({ descr: "<f4", shape: [200, 4], values: x })],
        ["y.npy", npyBytes({ descr: "<i8", shape: [200], values: y })],
      ], 8),
    );
    const plan = train(mlp({ hidden: [8] }))
      .data(tensors({ train: file, testSize: 40, batchSize: 16 }))
      .workers(2)
      .optimizer(sgd({ lr: 0.05 }))
      .base(allReduce())
      .steps(60)
      .evalEvery(10)
      .compile();
    const result = await run(plan, { transport: "memory", out: join(folder, "run") });
    assert.equal(result.summary.status, "completed", result.summary.error ?? "");
    const lines = await evals(join(folder, "run"));
    assert.deepEqual(lines.map((line) => line.step), [9, 19, 29, 39, 49, 59]);
    const first = lines[0]!;
    const last = lines[lines.length - 1]!;
    assert.ok(last.loss < first.loss, `test loss ${first.loss} → ${last.loss}`);
    assert.ok(last.acc >= 0.95, `final accuracy ${last.acc} (chance is 0.5)`);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("a linear model fits a user's regression CSV: y = 2a − b is learned", async () => {
  const folder = await tempRunFolder();
  try {
    const rows = Array.from({ length: 64 }, (_, i) => {
      const a = Math.sin(i);
      const b = Math.cos(3 * i);
      return `${a},${b},${2 * a - b}`;
    });
    const file = join(folder, "data.csv");
    await Deno.writeTextFile(file, `a,b,target\n${rows.join("\n")}\n`);
    const plan = train(linear({ dim: 2 }))
      .data(tensors({ train: file, task: "regression", testSize: 0.25, batchSize: 8 }))
      .workers(2)
      .optimizer(sgd({ lr: 0.3 }))
      .base(localSgd({ tau: 2 }))
      .steps(200)
      .evalEvery(100)
      .compile();
    const result = await run(plan, { transport: "memory", out: join(folder, "run") });
    assert.equal(result.summary.status, "completed", result.summary.error ?? "");
    const params = JSON.parse(await Deno.readTextFile(join(folder, "run", "params.json")));
    const [wa, wb] = params.average as number[];
    assert.ok(Math.abs(wa! - 2) < 0.01 && Math.abs(wb! + 1) < 0.01, `weights ${wa}, ${wb}`);
    const lines = await evals(join(folder, "run"));
    assert.ok(lines[lines.length - 1]!.loss < 1e-4, `final test loss ${lines.at(-1)!.loss}`);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
