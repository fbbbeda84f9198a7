import assert from "node:assert/strict";
import { loadPlan } from "../runtime/load_plan.ts";
import { gossamer, STACK_LINE } from "./_cli.ts";

/** Writes files into a fresh temporary folder and returns its path. */
async function tempFolder(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_cli_" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  return dir;
}

/** A small valid plan as JSON-ready data. */
async function validPlan(): Promise<Record<string, unknown>> {
  return structuredClone(await loadPlan("examples/least_squares.ts")) as unknown as Record<
    string,
    unknown
  >;
}

Deno.test("plan explains a pipeline module and prints the plan", async () => {
  const result = await gossamer("plan", "examples/quickstart.ts");
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Plan examples\/quickstart.ts is valid \(plan version 1\)/);
  assert.match(result.stdout, /base\s+gossip\(ring\) on 8 workers/);
  assert.match(result.stdout, /outer\s+slowMo\(tau=12, beta=0\.7, alpha=1, buffers=keep\)/);
  // mlp 784-128-10: 784·128 + 128 + 128·10 + 10 parameters.
  assert.match(result.stdout, /Model: 101,770 parameters/);
  assert.match(result.stdout, /exact average every 12 steps/);
  assert.match(result.stdout, /"kind": "gossip"/);
});

Deno.test("plan --json gives the plan and byte estimates computed from the plan", async () => {
  const result = await gossamer("plan", "examples/quickstart.ts", "--json");
  assert.equal(result.code, 0, result.stderr);
  const { plan, explanation } = JSON.parse(result.stdout);
  assert.deepEqual(plan, await loadPlan("examples/quickstart.ts"));
  const d = 101770;
  // Ring: two neighbours each receive the full model; SlowMo all-reduces every 12 steps.
  assert.equal(explanation.bytesPerStep.base, 2 * 4 * d);
  assert.equal(explanation.bytesPerStep.outer, (2 * 7 / 8) * 4 * d / 12);
  assert.equal(explanation.syncPeriod, 12);
});

Deno.test("plan explains chocoGossip: one top-k code per ring neighbour, in phase compressed", async () => {
  const result = await gossamer("plan", "examples/choco_gossip.ts", "--json");
  assert.equal(result.code, 0, result.stderr);
  const { explanation } = JSON.parse(result.stdout);
  // 1,000 float32 values and 1,000 indices of ⌈log2 101,770⌉ = 17 bits, to two neighbours.
  assert.equal(explanation.bytesPerStep.compressed, 2 * (4 * 1000 + Math.ceil(1000 * 17 / 8)));
  assert.equal(explanation.bytesPerStep.base, 0);
  assert.equal(explanation.syncPeriod, null);
  const text = await gossamer("plan", "examples/choco_gossip.ts");
  assert.match(text.stdout, /base\s+chocoGossip\(ring, gamma=0\.2\) on 8 workers/);
  assert.match(text.stdout, /compress\s+topK\(k=1000, errorFeedback=false\)/);
});

Deno.test("plan predicts the time per step of a plan on its declared network", async () => {
  const text = await gossamer("plan", "examples/cnn_torus_network.ts");
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /Predicted on the declared network .*200 steps simulated/);
  const json = await gossamer("plan", "examples/cnn_torus_network.ts", "--json");
  const { prediction } = JSON.parse(json.stdout);
  // Each worker sends its 44,426 floats to 4 torus neighbours on 4 links of 100 Mbit/s:
  // (12 + 4 · 44,426) bytes take 14.2 ms to leave, then 2 ms latency and up to 0.5 ms jitter.
  const leave = (12 + 4 * 44_426) * 8 / 1e8 * 1000;
  assert.ok(prediction.msPerStep >= leave + 2, `${prediction.msPerStep} ms`);
  assert.ok(
    prediction.msPerStep <= 2 * (leave + 2.5),
    `${prediction.msPerStep} ms (rank 3 straggles)`,
  );
  assert.equal(prediction.bytesPerStep, 4 * (12 + 4 * 44_426));
  // Without a network there is nothing to predict.
  const plain = JSON.parse((await gossamer("plan", "examples/quickstart.ts", "--json")).stdout);
  assert.equal(plain.prediction, null);
});

Deno.test("a plan JSON file and the module it came from are interchangeable", async () => {
  const exported = await gossamer("plan", "examples/quickstart.ts", "--json");
  const dir = await tempFolder({ "plan.json": JSON.stringify(JSON.parse(exported.stdout).plan) });
  try {
    const fromFile = await gossamer("plan", `${dir}/plan.json`, "--json");
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.deepEqual(JSON.parse(fromFile.stdout), JSON.parse(exported.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an invalid plan file lists every issue with its path and exits 1", async () => {
  const plan = await validPlan();
  plan.base = { kind: "localSgd", tau: 3, buffers: "keep" };
  plan.outer = { kind: "slowMo", tau: 10, beta: 0.5, alpha: 1, buffers: "keep" };
  plan.workers = 0;
  plan.colour = "blue";
  const dir = await tempFolder({ "bad.json": JSON.stringify(plan) });
  try {
    const result = await gossamer("plan", `${dir}/bad.json`);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`Cannot compile ${dir}/bad.json: 2 issues`));
    assert.match(result.stderr, /workers: must be at least 1 \(expected >=1, received 0\)/);
    assert.match(result.stderr, /colour: unknown key/);
    assert.doesNotMatch(result.stderr, STACK_LINE);
    assert.equal(result.stdout, "");

    // With the shape fixed, the cross-slot rule is reported.
    plan.workers = 4;
    delete plan.colour;
    await Deno.writeTextFile(`${dir}/bad.json`, JSON.stringify(plan));
    const second = await gossamer("plan", `${dir}/bad.json`);
    assert.equal(second.code, 1);
    assert.match(second.stderr, /outer\.tau: slowMo tau 10 is not a multiple of localSgd tau 3/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("missing, unreadable and broken inputs get one clear message", async (t) => {
  const dir = await tempFolder({
    "broken.json": "{ not json",
    "no_default.ts": "export const x = 1;\n",
    "throws.ts": 'throw new Error("boom at import");\n',
    "not_a_plan.ts": "export default { hello: 1 };\n",
  });
  const cases: [string, string, RegExp][] = [
    ["missing file", "no/such/pipeline.ts", /Cannot load "no\/such\/pipeline.ts": file not found/],
    ["broken JSON", `${dir}/broken.json`, /Cannot load ".*broken.json": invalid JSON/],
    ["no default export", `${dir}/no_default.ts`, /has no default export/],
    ["module that throws", `${dir}/throws.ts`, /the module failed to load: .*boom at import/],
    ["default export not a plan", `${dir}/not_a_plan.ts`, /model: is required/],
  ];
  try {
    for (const [name, input, message] of cases) {
      await t.step(name, async () => {
        const result = await gossamer("plan", input);
        assert.equal(result.code, 1);
        assert.match(result.stderr, message);
        assert.doesNotMatch(result.stderr, STACK_LINE);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a misspelt option in a pipeline fails plan with its path and a suggestion", async () => {
  const root = new URL("../mod.ts", import.meta.url).href;
  const dir = await tempFolder({
    "typos.ts": [
      `import { allReduce, mlp, mnist, sgd, train } from "${root}";`,
      "export default train(mlp({ hidden: [8] }))",
      '  .data(mnist({ partition: "dirichelt" }))',
      "  .optimizer(sgd({ lr: 0.1, momentun: 0.9 }))",
      "  .base(allReduce());",
      "",
    ].join("\n"),
  });
  try {
    const result = await gossamer("plan", `${dir}/typos.ts`);
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /data\.partition: unknown partition; did you mean "dirichlet"\?/);
    assert.match(result.stderr, /optimizer\.momentun: unknown option; did you mean "momentum"\?/);
    assert.doesNotMatch(result.stderr, STACK_LINE);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("plan checks the files a plan refers to", async () => {
  const plan = await validPlan();
  const dir = await tempFolder({
    "three_shards.json": JSON.stringify({
      shards: [0, 1, 2].map(() => ({ A: [[1, 0, 0]], b: [1] })),
    }),
  });
  try {
    plan.data = { kind: "leastSquares", file: `${dir}/missing.json` };
    await Deno.writeTextFile(`${dir}/a.json`, JSON.stringify(plan));
    const missing = await gossamer("plan", `${dir}/a.json`);
    assert.equal(missing.code, 1);
    assert.match(
      missing.stderr,
      /data\.file: Cannot read least-squares file ".*missing.json": file not found/,
    );

    plan.data = { kind: "leastSquares", file: `${dir}/three_shards.json` };
    await Deno.writeTextFile(`${dir}/b.json`, JSON.stringify(plan));
    const shards = await gossamer("plan", `${dir}/b.json`);
    assert.equal(shards.code, 1);
    assert.match(shards.stderr, /data\.file: ".*three_shards.json" has 3 shards but workers is 4/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("usage errors exit 2 and help exits 0", async () => {
  const help = await gossamer("--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /plan \[options\] <input>/);
  const planHelp = await gossamer("plan", "--help");
  assert.equal(planHelp.code, 0);
  assert.match(planHelp.stdout, /--json/);
  const unknown = await gossamer("train-everything");
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command 'train-everything'/);
  const missingArgument = await gossamer("plan");
  assert.equal(missingArgument.code, 2);
  assert.match(missingArgument.stderr, /missing required argument 'input'/);
});

Deno.test("examples compiles every example and prints the comparison", async () => {
  const result = await gossamer("examples");
  assert.equal(result.code, 0, result.stderr);
  const examples = [...Deno.readDirSync("examples")].filter((e) => /\.(ts|json)$/.test(e.name));
  for (const example of examples) assert.match(result.stdout, new RegExp(example.name));
  assert.match(result.stdout, new RegExp(`${examples.length} plans valid`));
});

Deno.test("plan of a custom model builds it to give its size and bytes, or says why it cannot", async () => {
  const mod = new URL("../mod.ts", import.meta.url).href;
  const pipeline = (module: string) =>
    `import { allReduce, custom, sgd, synthetic, train } from ${JSON.stringify(mod)};
export default train(custom({ module: ${JSON.stringify(module)} }))
  .data(synthetic({ features: 3, classes: 2 })).workers(4)
  .optimizer(sgd({ lr: 0.1 })).base(allReduce()).steps(10);
`;
  const dir = await tempFolder({
    "model.ts": `export default ({ inputShape, classes, tf }) =>
  tf.sequential({ layers: [tf.layers.dense({ inputShape, units: classes })] });
`,
    "good.ts": pipeline("./model.ts"),
    "bad.ts": pipeline(new URL("fixtures/throwing_model.ts", import.meta.url).href),
  });
  try {
    const good = await gossamer("plan", `${dir}/good.ts`);
    assert.equal(good.code, 0, good.stderr);
    // A dense layer 3 → 2: 3·2 weights and 2 biases.
    assert.match(good.stdout, /Model: 8 parameters \(32 B as float32\)/);
    // Ring all-reduce: 2(n − 1)/n · d · 4 bytes = 1.5 · 8 · 4.
    assert.match(good.stdout, /base\s+48 B\s+480 B/);
    const bad = await gossamer("plan", `${dir}/bad.ts`);
    assert.equal(bad.code, 0, bad.stderr);
    assert.match(
      bad.stdout,
      /Model: size unknown, the model could not be built: .*the model builder exploded/,
    );
    assert.doesNotMatch(bad.stdout + bad.stderr, STACK_LINE);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
