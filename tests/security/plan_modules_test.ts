/**
 * Attacks by a shared plan (issue 20, item 2): a plan.json or run folder whose custom model
 * `module` is a `data:` URL, an `https:` address or another scheme must not make `gossamer plan`,
 * `run`, `resume`, `worker` or the library's `run()` import code its reader did not choose. The
 * payload modules write a marker file when they are evaluated: its absence proves they never
 * ran. A topology preset holding JavaScript is read as data and refused, never evaluated.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { gossamer, STACK_LINE } from "../_cli.ts";
import { loadPlan } from "../../runtime/load_plan.ts";
import { run } from "../../runtime/coordinator/run.ts";
import { parsePlan, PlanError } from "../../dsl/validate.ts";
import { fromFile, TopologyFileError } from "../../topologies/mod.ts";
import { customModulePlan, PLAN_REST } from "./_plan_json.ts";

/** Module source that writes `marker` when evaluated, then builds a working model. */
function payload(marker: string): string {
  return `Deno.writeTextFileSync(${JSON.stringify(marker)}, "ran");\n` +
    "export default ({ inputShape, classes, tf }) => tf.sequential({ layers: " +
    "[tf.layers.dense({ inputShape, units: classes })] });\n";
}

/** A `data:` URL of the payload. */
function dataUrl(marker: string): string {
  return `data:application/javascript,${encodeURIComponent(payload(marker))}`;
}

/** A temporary folder holding `plan.json` for `module`, and the marker's path. */
async function sharedPlan(module: (marker: string) => string) {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_plan_modules_" });
  const marker = join(dir, "pwned");
  const plan = join(dir, "plan.json");
  await Deno.writeTextFile(plan, JSON.stringify(customModulePlan(module(marker))));
  return { dir, marker, plan };
}

/** Whether a file exists. */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("gossamer plan refuses a plan.json whose custom model is a data: URL", async () => {
  const { dir, marker, plan } = await sharedPlan(dataUrl);
  try {
    const result = await gossamer("plan", plan);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /model\.module/);
    assert.match(result.stderr, /data: URL is never imported/);
    assert.ok(result.stderr.includes(plan), result.stderr);
    assert.match(result.stderr, /next to the plan/);
    assert.doesNotMatch(result.stderr, STACK_LINE);
    // The message does not repeat the whole payload.
    assert.ok(!result.stderr.includes("sequential"), result.stderr);
    assert.equal(await exists(marker), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gossamer run refuses a data: module before importing it", async () => {
  const { dir, marker, plan } = await sharedPlan(dataUrl);
  try {
    const result = await gossamer(
      "run",
      plan,
      "--transport",
      "memory",
      "--backend",
      "cpu",
      "--quiet",
      "--out",
      join(dir, "run"),
    );
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /model\.module/);
    assert.doesNotMatch(result.stderr, STACK_LINE);
    assert.equal(await exists(marker), false, "the data: module ran");
    assert.equal(await exists(join(dir, "run")), false, "a run folder was started");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gossamer resume refuses a run folder whose plan names a data: module", async () => {
  const { dir, marker, plan } = await sharedPlan(dataUrl);
  try {
    const result = await gossamer("resume", dir, "--transport", "memory", "--quiet");
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /model\.module/);
    assert.ok(result.stderr.includes(plan), result.stderr);
    assert.doesNotMatch(result.stderr, STACK_LINE);
    assert.equal(await exists(marker), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gossamer worker refuses a plan naming a data: module before it joins", async () => {
  const { dir, marker, plan } = await sharedPlan(dataUrl);
  try {
    const result = await gossamer(
      "worker",
      "--plan",
      plan,
      "--rank",
      "0",
      "--world",
      "2",
      "--rendezvous",
      "127.0.0.1:9",
    );
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /model\.module/);
    assert.doesNotMatch(result.stderr, STACK_LINE);
    assert.equal(await exists(marker), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an https: module is refused without --allow-remote-modules and accepted with it", async () => {
  // Validation only: nothing here fetches the address (example.invalid never resolves).
  const remote = "https://example.invalid/model.ts";
  const { dir, plan } = await sharedPlan(() => remote);
  try {
    const refused = await gossamer("plan", plan);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /model\.module/);
    assert.match(refused.stderr, /--allow-remote-modules/);
    assert.doesNotMatch(refused.stderr, STACK_LINE);
    const run = await gossamer("run", plan, "--transport", "memory", "--out", join(dir, "run"));
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /--allow-remote-modules/);
    assert.equal(await exists(join(dir, "run")), false);

    const allowed = await gossamer("plan", plan, "--allow-remote-modules");
    assert.equal(allowed.code, 0, allowed.stderr);
    const loaded = await loadPlan(plan, { allowRemoteModules: true });
    assert.equal(loaded.model.kind === "custom" && loaded.model.module, remote);
    await assert.rejects(loadPlan(plan), PlanError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data:, blob:, javascript:, npm:, jsr: and file: URLs of other hosts are refused even when remote modules are allowed", async () => {
  for (
    const module of [
      "data:text/javascript,export default 1",
      "blob:null/0a1b2c",
      "javascript:alert(1)",
      "npm:left-pad@1.3.0",
      "jsr:@std/path",
      "DATA:text/javascript,1",
      // A file: URL naming another host would be fetched from a share, not read from here.
      "file://evil.example/share/m.ts",
    ]
  ) {
    const { dir, plan } = await sharedPlan(() => module);
    try {
      await assert.rejects(
        loadPlan(plan, { allowRemoteModules: true }),
        (error: Error) =>
          error instanceof PlanError && /model\.module/.test(error.message) &&
          error.message.includes(plan),
        module,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("a relative module path resolves against the plan's folder, not the working directory", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_plan_modules_" });
  try {
    await Deno.mkdir(join(dir, "shared", "models"), { recursive: true });
    await Deno.writeTextFile(join(dir, "shared", "models", "m.ts"), "export default 1;\n");
    const plan = join(dir, "shared", "plan.json");
    await Deno.writeTextFile(plan, JSON.stringify(customModulePlan("./models/m.ts")));
    const loaded = await loadPlan(plan);
    assert.equal(
      loaded.model.kind === "custom" && loaded.model.module,
      join(dir, "shared", "models", "m.ts"),
    );
    // The same path next to the working directory instead is not found there.
    await Deno.writeTextFile(plan, JSON.stringify(customModulePlan("./models/absent.ts")));
    await assert.rejects(loadPlan(plan), /model\.module/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the library's run() refuses a parsed plan with a data: module, remote allowed or not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_plan_modules_" });
  const marker = join(dir, "pwned");
  try {
    const plan = parsePlan(customModulePlan(dataUrl(marker)), "a shared plan");
    for (const allowRemoteModules of [false, true]) {
      await assert.rejects(
        run(plan, {
          out: join(dir, "run"),
          transport: "memory",
          backend: "cpu",
          allowRemoteModules,
        }),
        /model\.module/,
      );
    }
    const remote = parsePlan(customModulePlan("https://example.invalid/m.ts"), "a shared plan");
    await assert.rejects(
      run(remote, { out: join(dir, "run"), transport: "memory", backend: "cpu" }),
      /--allow-remote-modules/,
    );
    assert.equal(await exists(marker), false, "the data: module ran");
    assert.equal(await exists(join(dir, "run")), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a topology preset holding JavaScript is refused as data and never evaluated", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_plan_modules_" });
  const marker = join(dir, "pwned");
  const preset = join(dir, "ring.json");
  await Deno.writeTextFile(
    preset,
    `Deno.writeTextFileSync(${JSON.stringify(marker)}, "ran");\n` +
      "export default { weights: [[0.5, 0.5], [0.5, 0.5]] };\n",
  );
  try {
    assert.throws(() => fromFile(preset), TopologyFileError);
    assert.throws(() => fromFile(preset), /invalid JSON/);
    const result = await gossamer("topology", preset, "--workers", "2");
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /invalid JSON/);
    assert.doesNotMatch(result.stderr, STACK_LINE);
    assert.equal(await exists(marker), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("data files holding JavaScript are read as data: refused by gossamer plan, never evaluated", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_plan_modules_" });
  const marker = join(dir, "pwned");
  const script = `Deno.writeTextFileSync(${JSON.stringify(marker)}, "ran");\nexport default {};\n`;
  const plans = {
    "leastSquares.file": {
      version: 1,
      model: { kind: "linear", dim: 3, init: "zeros" },
      data: { kind: "leastSquares", file: "./data.js" },
      ...PLAN_REST,
    },
    "tensors.train": {
      version: 1,
      model: { kind: "logistic", inputs: null, classes: null },
      data: {
        kind: "tensors",
        train: "./data.js",
        test: null,
        features: "x",
        labels: null,
        task: "classification",
        classes: null,
        partition: { kind: "iid" },
        testSize: 0.2,
        batchSize: 8,
      },
      ...PLAN_REST,
    },
  };
  try {
    await Deno.writeTextFile(join(dir, "data.js"), script);
    for (const [field, plan] of Object.entries(plans)) {
      const path = join(dir, `${field}.json`);
      await Deno.writeTextFile(path, JSON.stringify(plan));
      const result = await gossamer("plan", path);
      assert.equal(result.code, 1, `${field}: ${result.stderr}`);
      assert.match(result.stderr, /data\.(file|train)/, field);
      assert.doesNotMatch(result.stderr, STACK_LINE);
    }
    assert.equal(await exists(marker), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a data file given as a file: URL of another host is refused naming its field, not an internal error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_plan_modules_" });
  try {
    const plan = join(dir, "plan.json");
    await Deno.writeTextFile(
      plan,
      JSON.stringify({
        version: 1,
        model: { kind: "linear", dim: 3, init: "zeros" },
        data: { kind: "leastSquares", file: "file://evil.example/shards.json" },
        ...PLAN_REST,
      }),
    );
    const result = await gossamer("plan", plan);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^data\.file: /m);
    assert.doesNotMatch(result.stderr, /internal error/);
    assert.doesNotMatch(result.stderr, STACK_LINE);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
