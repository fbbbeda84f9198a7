import assert from "node:assert/strict";
import { reportRun } from "../cli/run_command.ts";
import { RunTotals } from "./coordinator/run_totals.ts";
import { type EvalLine, languageMetrics } from "./metrics.ts";
import type { RunResult, RunSummary } from "./run_types.ts";

Deno.test("bits per token and perplexity of a loss in nats", () => {
  // A uniform guess over 256 bytes costs ln 256 nats: 8 bits, perplexity 256.
  const uniform = languageMetrics(Math.log(256));
  assert.ok(Math.abs(uniform.bitsPerToken - 8) < 1e-12);
  assert.ok(Math.abs(uniform.perplexity - 256) < 1e-9);
  // A perfect model: 0 bits, perplexity 1.
  assert.deepEqual(languageMetrics(0), { bitsPerToken: 0, perplexity: 1 });
  // 1 nat = 1/ln 2 ≈ 1.442695 bits, perplexity e.
  const nat = languageMetrics(1);
  assert.ok(Math.abs(nat.bitsPerToken - 1.4426950408889634) < 1e-15);
  assert.ok(Math.abs(nat.perplexity - Math.E) < 1e-15);
});

/** An evaluation line of the averaged model. */
function evaluation(step: number, extra: Partial<EvalLine> = {}): EvalLine {
  return {
    type: "eval",
    step,
    model: "average",
    worker: null,
    testLoss: 2,
    testAccuracy: 0.4,
    ...extra,
  };
}

Deno.test("the run's final evaluation keeps bits per token and perplexity when the line has them", () => {
  const totals = new RunTotals(1, 10);
  totals.add(evaluation(4, languageMetrics(2)));
  assert.deepEqual(totals.evaluation, {
    step: 4,
    testLoss: 2,
    testAccuracy: 0.4,
    bitsPerToken: 2 / Math.LN2,
    perplexity: Math.exp(2),
  });
  // Lines of other data have neither, and the evaluation then has no such keys.
  totals.add(evaluation(9));
  assert.deepEqual(totals.evaluation, { step: 9, testLoss: 2, testAccuracy: 0.4 });
});

/** A run result with this final evaluation. */
function result(final: RunSummary["final"]): RunResult {
  const summary = {
    status: "completed",
    error: null,
    steps: 10,
    workers: 2,
    algorithm: "allReduce",
    final,
    wallTimeMs: 1500,
    bytes: [],
    backend: "cpu",
    backendReason: "asked for",
    virtualTimeMs: null,
    uploads: null,
  } as unknown as RunSummary;
  return { folder: "runs/x", summary, params: { workers: [], average: [] } };
}

Deno.test("gossamer run prints bits per token and perplexity for language models only", () => {
  const language = reportRun(
    result({ step: 9, testLoss: Math.log(4), testAccuracy: 0.5, ...languageMetrics(Math.log(4)) }),
  );
  const [header, , row] = language.split("\n");
  assert.match(header!, /final loss\s+│?\s*bits\/token\s+│?\s*perplexity/);
  assert.match(row!, /1\.3863\s+│?\s*2\.0000\s+│?\s*4\.000/);
  const classification = reportRun(result({ step: 9, testLoss: 0.3, testAccuracy: 0.9 }));
  assert.ok(!classification.includes("bits/token") && !classification.includes("perplexity"));
});
