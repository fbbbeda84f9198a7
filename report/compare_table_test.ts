import assert from "node:assert/strict";
import { join } from "node:path";
import { allReduce, mlp, mnist, sgd, train } from "../mod.ts";
import type { MetricsLine } from "../runtime/metrics.ts";
import type { RunSummary } from "../runtime/run_types.ts";
import { compareCsv, compareRow, compareText } from "./compare_table.ts";
import { readRun } from "./run_data.ts";
import { PHASES } from "../dsl/traffic.ts";
import { lockRunFolder } from "../runtime/coordinator/run_folder.ts";

const PLAN = train(mlp({ hidden: [8] })).data(mnist()).workers(2).optimizer(sgd({ lr: 0.1 }))
  .base(allReduce()).steps(4).evalEvery(2).compile();

/** Worker `w`'s step `k`: `base` training bytes, 5 control bytes, `t` ms into training. */
function step(k: number, w: number, base: number, t: number, loss = 1): MetricsLine {
  const sent = { base, outer: 0, compressed: 0, control: 5, state: 0 };
  return {
    type: "step",
    step: k,
    worker: w,
    loss,
    lr: 0.1,
    computeMs: 2,
    commMs: 1,
    elapsedMs: t,
    bytesSent: sent,
    bytesReceived: sent,
  };
}

/** The average model's evaluation after step `k`. */
function evaluation(k: number, accuracy: number): MetricsLine {
  return {
    type: "eval",
    step: k,
    model: "average",
    worker: null,
    testLoss: 1 - accuracy,
    testAccuracy: accuracy,
  };
}

const LINES: MetricsLine[] = [
  step(0, 0, 100, 10),
  step(0, 1, 100, 11),
  step(1, 0, 100, 20),
  step(1, 1, 100, 24),
  evaluation(1, 0.6),
  {
    type: "traffic",
    step: 1,
    worker: 0,
    bytesSent: { base: 0, outer: 0, compressed: 0, control: 40, state: 0 },
    bytesReceived: { base: 0, outer: 0, compressed: 0, control: 0, state: 0 },
  },
  step(2, 0, 100, 30),
  step(2, 1, 100, 33),
  step(3, 0, 100, 40),
  step(3, 1, 100, 45),
  evaluation(3, 0.8),
];

const SUMMARY: Partial<RunSummary> = {
  status: "completed",
  error: null,
  wallTimeMs: 900,
  bytes: [
    {
      worker: 0,
      sent: { base: 400, outer: 0, compressed: 0, control: 60, state: 0 },
      received: { base: 0, outer: 0, compressed: 0, control: 0, state: 0 },
    },
    {
      worker: 1,
      sent: { base: 400, outer: 0, compressed: 0, control: 20, state: 0 },
      received: { base: 0, outer: 0, compressed: 0, control: 0, state: 0 },
    },
  ],
};

/** Writes a run folder by hand: the plan, these metrics lines and, if given, a summary. */
async function runFolder(
  lines: readonly MetricsLine[],
  summary: Partial<RunSummary> | null,
  tail = "",
) {
  const folder = await Deno.makeTempDir({ prefix: "gossamer_compare_" });
  await Deno.writeTextFile(join(folder, "plan.json"), JSON.stringify(PLAN));
  await Deno.writeTextFile(
    join(folder, "metrics.jsonl"),
    lines.map((line) => JSON.stringify(line) + "\n").join("") + tail,
  );
  if (summary !== null) {
    await Deno.writeTextFile(join(folder, "summary.json"), JSON.stringify(summary));
  }
  return folder;
}

Deno.test("a finished run's row: accuracies, bytes per phase from the summary, times and the target", async () => {
  const folder = await runFolder(LINES, SUMMARY);
  try {
    const row = compareRow(await readRun(folder), 0.7);
    assert.equal(row.status, "completed");
    assert.equal(row.algorithm, "allReduce");
    assert.equal(row.stepsRun, 4);
    assert.equal(row.finalAccuracy, 0.8);
    assert.equal(row.bestAccuracy, 0.8);
    assert.ok(Math.abs(row.finalTestLoss! - 0.2) < 1e-12);
    // Mean over the two workers of summary.json's bytes.
    assert.deepEqual(row.bytesPerWorker, {
      base: 400,
      outer: 0,
      compressed: 0,
      control: 40,
      state: 0,
    });
    // The slowest worker finished step 3 at 45 ms.
    assert.equal(row.timeMs, 45);
    assert.equal(row.clock, "training");
    assert.equal(row.wallTimeMs, 900);
    // 70% was first reached at the evaluation after step 3: 4 steps of 100 training bytes.
    assert.equal(row.timeToTargetMs, 45);
    assert.equal(row.bytesToTarget, 400);
    assert.equal(compareRow(await readRun(folder), 0.5).bytesToTarget, 200);
    assert.equal(compareRow(await readRun(folder), 0.9).timeToTargetMs, null);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("a running run: partial steps and a half-written line are left out, bytes come from the metrics", async () => {
  // Step 3 only on worker 0, and a line still being written.
  const folder = await runFolder(LINES.slice(0, 9), null, '{"type":"step","st');
  // Still being written: this process holds the folder's lock.
  const lock = await lockRunFolder(folder);
  try {
    const run = await readRun(folder);
    assert.equal(run.status, "running");
    const row = compareRow(run);
    assert.equal(row.stepsRun, 3);
    assert.equal(row.finalAccuracy, 0.6);
    assert.equal(row.wallTimeMs, null);
    // 7 step lines (700 base, 35 control) and one traffic line (40 control) over 2 workers.
    assert.deepEqual(row.bytesPerWorker, {
      base: 350,
      outer: 0,
      compressed: 0,
      control: 37.5,
      state: 0,
    });
    assert.match(compareText([row]), /3\/4\s+running\s+60\.00%/);
    // Its writer gone without a summary (killed, or its disk full): stopped, not running.
    lock.release();
    assert.match(compareText([compareRow(await readRun(folder))]), /3\/4\s+stopped\s+60\.00%/);
  } finally {
    lock.release();
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("the table's CSV has raw numbers and the target's columns", async () => {
  const folder = await runFolder(LINES, SUMMARY);
  try {
    const csv = compareCsv([compareRow(await readRun(folder), 0.7)], 0.7).trim().split("\n");
    assert.equal(
      csv[0],
      "run,algorithm,workers,steps,status,final accuracy,best accuracy,base sent/worker,outer sent/worker,compressed sent/worker,control sent/worker,state sent/worker,time,clock,wall time,time to 70.00%,bytes to 70.00%",
    );
    assert.match(
      csv[1]!,
      /,allReduce,2,4,completed,0\.8,0\.8,400,0,0,40,0,45,training,900,45,400$/,
    );
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("a folder without plan.json is refused by name", async () => {
  const folder = await Deno.makeTempDir();
  try {
    await assert.rejects(() => readRun(folder), new RegExp(`${folder} is not a run folder`));
    await Deno.writeTextFile(join(folder, "plan.json"), "{");
    await assert.rejects(() => readRun(folder), /plan\.json is not valid JSON/);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("on a real run the row agrees with summary.json", async () => {
  const { leastSquaresPipeline, tinyMnist } = await import("../tests/runtime/_plans.ts");
  const { gossip, ring, run } = await import("../mod.ts");
  const folder = await Deno.makeTempDir({ prefix: "gossamer_compare_real_" });
  try {
    for (
      const [name, plan] of [
        ["mnist", tinyMnist(20)],
        ["gossip", leastSquaresPipeline(20).base(gossip(ring)).compile()],
      ] as const
    ) {
      const result = await run(plan, { transport: "memory", out: join(folder, name) });
      const row = compareRow(await readRun(join(folder, name)));
      const summary = result.summary;
      assert.equal(row.finalAccuracy, summary.final!.testAccuracy);
      assert.equal(row.finalTestLoss, summary.final!.testLoss);
      assert.equal(row.stepsRun, summary.steps);
      for (const phase of PHASES) {
        const mean = summary.bytes.reduce((sum, worker) => sum + worker.sent[phase], 0) /
          summary.workers;
        assert.equal(row.bytesPerWorker[phase], mean, `${name} ${phase}`);
      }
    }
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("a language model's row, table and first chart show bits per token", async () => {
  const { reportCharts } = await import("./charts.ts");
  const { runSeries } = await import("./series.ts");
  // Evaluations of a language model carry bits per token (testLoss / ln 2).
  const language = LINES.map((line) =>
    line.type === "eval" ? { ...line, bitsPerToken: line.testLoss / Math.LN2 } : line
  );
  const folder = await runFolder(language, SUMMARY);
  const classifier = await runFolder(LINES, SUMMARY);
  try {
    const run = await readRun(folder);
    const row = compareRow(run);
    assert.ok(Math.abs(row.finalBitsPerToken! - 0.2 / Math.LN2) < 1e-12);
    assert.match(compareText([row]), /final bits\/token[\s\S]*completed\s+0\.289\s+80\.00%/);
    assert.match(compareCsv([row]).split("\n")[0]!, /status,final bits\/token,final accuracy/);
    const charts = reportCharts([{ name: "lm", series: runSeries(run) }]);
    assert.ok(charts[0]!.id.startsWith("bits-per-token"), charts[0]!.id);
    // A classifier's table and charts are unchanged.
    const plain = compareRow(await readRun(classifier));
    assert.equal(plain.finalBitsPerToken, null);
    assert.doesNotMatch(compareText([plain]), /bits/);
  } finally {
    await Deno.remove(folder, { recursive: true });
    await Deno.remove(classifier, { recursive: true });
  }
});

Deno.test("runs that report their outer syncs get a peak-sync column: the summary's, else the steps' largest", async () => {
  const synced = (line: MetricsLine, bytes: number): MetricsLine => ({
    ...line,
    algorithm: { syncedFragment: 0, syncBytes: bytes },
  } as MetricsLine);
  const lines = LINES.map((line, i) =>
    i === 2 ? synced(line, 300) : i === 7 ? synced(line, 500) : line
  );
  const running = await runFolder(lines.slice(0, 9), null);
  const done = await runFolder(lines, { ...SUMMARY, peakSyncBytes: 512 });
  const plain = await runFolder(LINES, SUMMARY);
  try {
    const rows = [
      compareRow(await readRun(running)),
      compareRow(await readRun(done)),
      compareRow(await readRun(plain)),
    ];
    assert.deepEqual(rows.map((row) => row.peakSyncBytes), [500, 512, null]);
    const csv = compareCsv(rows).trim().split("\n");
    assert.match(csv[0]!, /,control sent\/worker,state sent\/worker,peak sync\/worker,time,/);
    assert.match(csv[3]!, /,40,0,,45,/);
    assert.doesNotMatch(compareText([rows[2]!]), /peak sync/);
  } finally {
    for (const folder of [running, done, plain]) await Deno.remove(folder, { recursive: true });
  }
});
