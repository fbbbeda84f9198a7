/**
 * The public surface is chosen on purpose: the package root exports what a pipeline author
 * uses, and every other entry point in `deno.json` is a documented module. A change to the
 * root's value exports must show up here.
 */

import assert from "node:assert/strict";
import * as root from "../mod.ts";

const config = JSON.parse(
  await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
) as { exports: Record<string, string> };

Deno.test("the package root exports the DSL, the topologies and running plans, nothing internal", () => {
  assert.deepEqual(Object.keys(root).sort(), [
    // Errors, the plan version.
    "PLAN_VERSION",
    "PlanError",
    "PlanLoadError",
    "RunDataError",
    "RunError",
    "TopologyFileError",
    // One factory per node of every slot, and the builder.
    "adam",
    "adamw",
    "allReduce",
    "bmuf",
    "cada",
    "chocoGossip",
    "cnn",
    "complete",
    "cosine",
    "custom",
    "decentLaM",
    "diloco",
    "dmSgd",
    "dqSgd",
    "explainPlan",
    "exponential",
    "fetchPreset",
    "fetchSgd",
    "formatIssues",
    "fromFile",
    "gossip",
    "learningRate",
    "leastSquares",
    "linear",
    "loadPlan",
    "localSgd",
    "logistic",
    "mlp",
    "mnist",
    "network",
    "onePeerExponential",
    "overlapLocalSgd",
    "parseMetrics",
    "parsePlan",
    "planExpression",
    "planImports",
    "qsgd",
    "readRun",
    "resume",
    "ring",
    "run",
    "sgd",
    "sgp",
    "sketchedSgd",
    "slowMo",
    "sparseLoco",
    "star",
    "stepDecay",
    "streamingDiloco",
    "synthetic",
    "tensors",
    "text",
    "topK",
    "torus",
    "totalBytes",
    "train",
    "transformer",
    "validatePlan",
    "warmup",
  ]);
});

Deno.test("every entry point in deno.json is a documented module", async () => {
  assert.deepEqual(Object.keys(config.exports).sort(), [
    ".",
    "./algorithms",
    "./cli",
    "./comm",
    "./compressors",
    "./plan",
    "./report",
    "./runtime",
    "./topologies",
  ]);
  for (const [name, path] of Object.entries(config.exports)) {
    const text = await Deno.readTextFile(new URL(`../${path}`, import.meta.url));
    assert.match(text, /^\/\*\*[\s\S]*?@module/, `${name} (${path}) starts with a module doc`);
    const module = await import(new URL(`../${path}`, import.meta.url).href);
    assert.ok(Object.keys(module).length > 0, `${name} exports something`);
  }
});
