import assert from "node:assert/strict";
import { join } from "node:path";
import { allReduce, leastSquares, linear, sgd, train } from "../mod.ts";
import type { MetricsLine } from "../runtime/metrics.ts";
import { membershipChart } from "./charts.ts";
import { compareRow } from "./compare_table.ts";
import { membershipTimeline } from "./membership.ts";
import { buildReport } from "./report.ts";
import { readRun } from "./run_data.ts";
import { runSeries } from "./series.ts";

const SHARDS = new URL("../examples/data/least_squares_4.json", import.meta.url);

/** An elastic plan of 4 workers and 5 steps. */
const ELASTIC = train(linear({ dim: 3 })).data(leastSquares({ file: SHARDS })).workers(4)
  .optimizer(sgd({ lr: 0.05 })).base(allReduce()).steps(5).elastic({ minWorkers: 3 }).compile();

/** The same plan, not elastic. */
const PLAIN = train(linear({ dim: 3 })).data(leastSquares({ file: SHARDS })).workers(4)
  .optimizer(sgd({ lr: 0.05 })).base(allReduce()).steps(5).compile();

/** Worker `w`'s step `k`: 100 training bytes, loss `k + w/10` unless given, at `t` ms. */
function step(k: number, w: number, t: number, loss = k + w / 10): MetricsLine {
  const sent = { base: 100, outer: 0, compressed: 0, control: 3, state: 0 };
  return {
    type: "step",
    step: k,
    worker: w,
    loss,
    lr: 0.05,
    computeMs: 1,
    commMs: 1,
    elapsedMs: t,
    bytesSent: sent,
    bytesReceived: sent,
  };
}

/** The average model's evaluation after step `k`. */
function evaluation(k: number, testLoss: number): MetricsLine {
  return { type: "eval", step: k, model: "average", worker: null, testLoss, testAccuracy: null };
}

const SURVIVORS = [0, 1, 3];

/**
 * Worker 2 of 4 is lost in step 1 (its step-1 line dies with it); workers 0 and 1 had already
 * written step 2, with an evaluation, when the coordinator rewound the survivors to step 2; the
 * survivors redo steps 2 to 4.
 */
const LOST: MetricsLine[] = [
  ...[0, 1, 2, 3].map((w) => step(0, w, 10)),
  ...SURVIVORS.map((w) => step(1, w, 20)),
  evaluation(1, 0.75),
  step(2, 0, 30, 100),
  step(2, 1, 30, 100),
  evaluation(2, 99),
  {
    type: "membership",
    step: 2,
    worker: 0,
    left: [2],
    members: SURVIVORS,
    reason: "lost",
    detail: "Worker 2 disconnected from the coordinator before finishing (it died or was killed)",
  },
  ...SURVIVORS.map((w) => step(2, w, 130)),
  evaluation(2, 0.5),
  ...SURVIVORS.map((w) => step(3, w, 140)),
  ...SURVIVORS.map((w) => step(4, w, 150)),
  evaluation(4, 0.25),
];

/** Writes a run folder by hand: the plan and these metrics lines (no summary: still running). */
async function runFolder(lines: readonly MetricsLine[], plan = ELASTIC, name = "elastic") {
  const parent = await Deno.makeTempDir({ prefix: "gossamer_membership_" });
  const folder = join(parent, name);
  await Deno.mkdir(folder);
  await Deno.writeTextFile(join(folder, "plan.json"), JSON.stringify(plan));
  await Deno.writeTextFile(
    join(folder, "metrics.jsonl"),
    lines.map((line) => JSON.stringify(line) + "\n").join(""),
  );
  return { parent, folder };
}

Deno.test("curves after a lost worker draw the redone steps once, and bytes keep the abandoned attempt's", async () => {
  const { parent, folder } = await runFolder(LOST);
  try {
    const run = await readRun(folder);
    const series = runSeries(run, 1);
    // Step 1 lacks the lost worker's line and is complete over the survivors; step 2's loss is
    // the redone lines' mean (2 + (0 + 0.1 + 0.3)/3), not the abandoned 100s.
    assert.deepEqual(series.steps.map((point) => point.step), [0, 1, 2, 3, 4]);
    const losses = [0.15, 1 + 0.4 / 3, 2 + 0.4 / 3, 3 + 0.4 / 3, 4 + 0.4 / 3];
    for (const [index, point] of series.steps.entries()) {
      assert.ok(Math.abs(point.loss - losses[index]!) < 1e-12, `step ${index}: ${point.loss}`);
    }
    // Training bytes per worker of the plan (4), every line counted: 4, 3, 2 + 3, 3, 3 lines.
    assert.deepEqual(series.steps.map((point) => point.bytes), [100, 175, 300, 375, 450]);
    // The redone step's time, not the abandoned one's.
    assert.deepEqual(series.steps.map((point) => point.timeMs), [10, 20, 130, 140, 150]);
    // One evaluation per step: the abandoned evaluation of step 2 (99) is gone.
    assert.deepEqual(
      series.evals.map((point) => [point.step, point.testLoss, point.bytes]),
      [[1, 0.75, 175], [2, 0.5, 300], [4, 0.25, 450]],
    );
    const row = compareRow(run);
    assert.equal(row.stepsRun, 5);
    // The table's bytes (no summary yet: summed from the lines) keep every line: 18 × 100 / 4.
    assert.equal(row.bytesPerWorker.base, 450);
    assert.equal(row.finalTestLoss, 0.25);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("while the survivors redo a rewound step, the curve stops before it", async () => {
  const cut = LOST.findIndex((line) => line.type === "membership") + 1;
  const { parent, folder } = await runFolder([
    ...LOST.slice(0, cut),
    step(2, 0, 130),
    step(2, 3, 130),
  ]);
  try {
    const series = runSeries(await readRun(folder), 1);
    // Workers 0 and 3 have redone step 2, worker 1 not yet: its abandoned line does not stand in.
    assert.deepEqual(series.steps.map((point) => point.step), [0, 1]);
    assert.deepEqual(series.evals.map((point) => point.testLoss), [0.75]);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a declared leave rewinds nothing: a step written before its membership line stays", async () => {
  const lines: MetricsLine[] = [
    ...[0, 1, 2, 3].map((w) => step(0, w, 10)),
    ...[0, 1, 2, 3].map((w) => step(1, w, 20)),
    step(2, 1, 30),
    { type: "membership", step: 2, worker: 0, left: [2], members: SURVIVORS, reason: "declared" },
    step(2, 0, 31),
    step(2, 3, 32),
  ];
  const { parent, folder } = await runFolder(lines);
  try {
    const series = runSeries(await readRun(folder), 1);
    assert.deepEqual(series.steps.map((point) => point.step), [0, 1, 2]);
    assert.ok(Math.abs(series.steps[2]!.loss - (2 + 0.4 / 3)) < 1e-12);
    assert.equal(series.steps[2]!.timeMs, 32);
    assert.deepEqual(series.steps.map((point) => point.bytes), [100, 200, 275]);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("the report of an elastic run draws its live workers per step and lists the leave", async () => {
  const { parent, folder } = await runFolder(LOST);
  try {
    const run = await readRun(folder);
    const timeline = membershipTimeline(4, run.membership ?? [], 4);
    const chart = membershipChart(["elastic"], [{ name: "elastic", timeline }]);
    assert.deepEqual((chart.spec.data as { values: unknown[] }).values, [
      { run: "elastic", step: 0, live: 4 },
      { run: "elastic", step: 2, live: 3 },
      { run: "elastic", step: 4, live: 3 },
    ]);
    const layers = (chart.spec as { layer: { data?: { values: unknown[] } }[] }).layer;
    assert.deepEqual(layers[1]!.data!.values, [
      { run: "elastic", step: 2, live: 3, label: "worker 2 lost" },
    ]);

    const report = await buildReport([folder]);
    assert.match(report.html, /<h2>Membership<\/h2>/);
    assert.match(report.html, /<figure id="chart-membership" class="wide">[^]*?<svg[^]*?<\/svg>/);
    assert.match(
      report.html,
      /<table id="membership-live">[^]*<tr><td>elastic<\/td><td>3 of 4<\/td><td>0, 1, 3<\/td><td>step 2<\/td><\/tr>/,
    );
    assert.match(
      report.html,
      /<tr><td>elastic<\/td><td>2<\/td><td>worker 2 lost<\/td><td>lost<\/td><td>0, 1, 3<\/td><td>Worker 2 disconnected from the coordinator before finishing \(it died or was killed\)<\/td><\/tr>/,
    );
    // The SVG draws the step line's corners: 4 workers until step 2, then 3.
    assert.match(report.html, /worker 2 lost<\/text>/);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a report of runs that are not elastic has no membership section", async () => {
  const lines = [0, 1].flatMap((k) => [0, 1, 2, 3].map((w) => step(k, w, 10 * (k + 1))));
  const { parent, folder } = await runFolder(lines, PLAIN, "plain");
  try {
    const report = await buildReport([folder]);
    assert.doesNotMatch(report.html, /Membership|chart-membership|membership-live/);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a membership line's text reaches the page as text, and a damaged one is left out", async () => {
  const hostile = 'x"><script>alert(1)</script>';
  const lines = [
    ...LOST.filter((line) => line.type !== "membership"),
    { type: "membership", step: 2, worker: 0, left: [2], reason: "lost" },
    {
      type: "membership",
      step: 2,
      worker: 0,
      left: [2],
      members: SURVIVORS,
      reason: "lost",
      detail: hostile,
    },
  ] as MetricsLine[];
  const { parent, folder } = await runFolder(lines);
  try {
    const run = await readRun(folder);
    assert.equal(run.membership?.length, 1);
    const report = await buildReport([folder]);
    assert.ok(!report.html.includes(hostile));
    assert.ok(report.html.includes("<td>x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
