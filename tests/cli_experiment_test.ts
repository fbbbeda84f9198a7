import assert from "node:assert/strict";
import { experimentTable, parseSettings } from "../cli/experiment_command.ts";
import { experimentRow } from "../report/experiment_row.ts";
import { CliInputError } from "../cli/errors.ts";
import type { MetricsLine } from "../runtime/metrics.ts";
import type { RunSummary } from "../runtime/run_types.ts";
import { gossamer, ROOT, STACK_LINE } from "./_cli.ts";

const zero = { base: 0, outer: 0, compressed: 0, control: 0, state: 0 };

/** A step line of worker `w` at step `k`, `t` ms into training. */
function step(k: number, w: number, t: number, virtualMs?: number): MetricsLine {
  return {
    type: "step",
    step: k,
    worker: w,
    loss: 1,
    lr: 0.1,
    computeMs: 1,
    commMs: 1,
    elapsedMs: t,
    bytesSent: zero,
    bytesReceived: zero,
    ...(virtualMs === undefined ? {} : { virtualMs }),
  };
}

/** A summary of a 2-worker, 4-step run. */
function summary(virtualTimeMs: number | null): RunSummary {
  return {
    status: "completed",
    error: null,
    steps: 4,
    workers: 2,
    algorithm: "gossip",
    final: { step: 3, testLoss: 0.5, testAccuracy: 0.8 },
    wallTimeMs: 1000,
    bytes: [
      {
        worker: 0,
        sent: { base: 400, outer: 40, compressed: 0, control: 999, state: 0 },
        received: zero,
      },
      {
        worker: 1,
        sent: { base: 360, outer: 0, compressed: 0, control: 999, state: 0 },
        received: zero,
      },
    ],
    backend: "wasm",
    backendReason: "test",
    transport: "memory",
    clock: virtualTimeMs === null ? "real" : "virtual",
    virtualTimeMs,
    launch: null,
    versions: { deno: "x", tfjs: null },
    uploads: null,
    checkpoints: null,
    allReduce: "ring in one thread",
  };
}

/** A hand-made run: evaluations after steps 1 and 3, worker distances at the last one. */
const LINES: MetricsLine[] = [
  step(0, 0, 10, 100),
  step(0, 1, 12, 110),
  step(1, 0, 20, 200),
  step(1, 1, 25, 190),
  { type: "eval", step: 1, model: "average", worker: null, testLoss: 1, testAccuracy: 0.6 },
  step(2, 0, 30, 300),
  step(2, 1, 31, 320),
  step(3, 0, 45, 400),
  step(3, 1, 40, 410),
  { type: "eval", step: 3, model: "average", worker: null, testLoss: 0.5, testAccuracy: 0.8 },
  {
    type: "eval",
    step: 3,
    model: "worker",
    worker: 0,
    testLoss: 0.5,
    testAccuracy: 0.7,
    distanceToAverage: 0.25,
  },
  {
    type: "eval",
    step: 3,
    model: "worker",
    worker: 1,
    testLoss: 0.5,
    testAccuracy: 0.9,
    distanceToAverage: 0.75,
  },
];

Deno.test("experiment rows: accuracy, training bytes, times and consensus from the metrics", () => {
  const real = experimentRow("ring", LINES, summary(null), { target: 0.7 });
  assert.deepEqual(real, {
    name: "ring",
    algorithm: "gossip ×2",
    finalAccuracy: 0.8,
    finalBitsPerToken: null,
    bestAccuracy: 0.8,
    // (400 + 40 + 360) training bytes over 2 workers and 4 steps; control bytes are not training.
    trainingBytesPerStep: 100,
    trainingBytes: 400,
    peakSyncBytes: null,
    // The slowest worker's training time at the last step, and when 70% was first reached.
    timeMs: 45,
    timeToTargetMs: 45,
    timeToTargetBitsMs: null,
    consensusDistance: 0.5,
    // Without upload decisions every worker sends every step: 2 × 4.
    uploads: 8,
    skipRate: 0,
    uploadsToTargetLoss: null,
  });
  const virtual = experimentRow("ring", LINES, summary(410), { target: 0.5 });
  assert.equal(virtual.timeMs, 410);
  // 60% after step 1: the slowest worker's simulated time then.
  assert.equal(virtual.timeToTargetMs, 200);
  assert.equal(experimentRow("ring", LINES, summary(null), { target: 0.95 }).timeToTargetMs, null);
  const text = experimentTable([real], { target: 0.7 });
  assert.match(text, /time to 70\.00%/);
  assert.match(text, /ring\s+gossip ×2\s+80\.00%\s+80\.00%\s+100 B\s+0\.04 s\s+0\.04 s\s+0\.5000/);

  assert.doesNotMatch(text, /bits/);
  // A language model's row also shows its final bits per token.
  const language = experimentTable([{ ...real, finalBitsPerToken: 3.14159 }], {});
  assert.match(language, /final bits\/token/);
  assert.match(language, /ring\s+gossip ×2\s+3\.142\s+80\.00%/);
});

Deno.test("experiment rows of a language model: time to a validation bits per token", () => {
  /** The averaged model's evaluation after step `k`, at `bits` bits per token. */
  const evaluated = (k: number, bits: number): MetricsLine => ({
    type: "eval",
    step: k,
    model: "average",
    worker: null,
    testLoss: bits * Math.LN2,
    testAccuracy: 0.3,
    bitsPerToken: bits,
    perplexity: 2 ** bits,
  });
  const lines = [
    ...LINES.filter((line) => line.type === "step"),
    evaluated(1, 3.5),
    evaluated(3, 3.1),
  ];
  const at = (targetBits: number) =>
    experimentRow("lm", lines, summary(410), { target: null, targetBits });
  // 3.5 bits after step 1, whose slowest worker finished at 200 simulated ms; 3.1 after step 3.
  assert.equal(at(3.6).timeToTargetBitsMs, 200);
  assert.equal(at(3.2).timeToTargetBitsMs, 410);
  assert.equal(at(3).timeToTargetBitsMs, null);
  const text = experimentTable([{ ...at(3.2), finalBitsPerToken: 3.1 }], {
    clock: "virtual",
    targetBits: 3.2,
  });
  assert.match(text, /training bytes\/worker\s+simulated time\s+time to 3\.2 bits\/token/);
  assert.match(text, /lm\s+gossip ×2\s+3\.100\s+.*\s+100 B\s+400 B\s+0\.41 s\s+0\.41 s/);
  // A run that reports its outer syncs (Streaming DiLoCo) adds its peak.
  const streaming = experimentRow("lm", lines, { ...summary(410), peakSyncBytes: 2048 }, {
    target: null,
  });
  assert.equal(streaming.peakSyncBytes, 2048);
  assert.match(experimentTable([streaming], {}), /peak sync\/worker[\s\S]*\s2\.0 KiB\s/);
});

Deno.test("experiment rows count uploads, and the uploads it took to reach a training loss", () => {
  /** Worker `w` at step `k` with its batch loss and whether it uploaded. */
  const decided = (k: number, w: number, loss: number, uploaded: boolean): MetricsLine => ({
    ...step(k, w, 10 * k) as MetricsLine & { type: "step" },
    loss,
    algorithm: { uploaded, staleness: 0, threshold: 1 },
  });
  const lines = [
    decided(0, 0, 4, true),
    decided(0, 1, 4, true),
    decided(1, 0, 2, false),
    decided(1, 1, 2, true),
    decided(2, 0, 1, true),
    decided(2, 1, 1, false),
    decided(3, 0, 1, false),
    decided(3, 1, 1, false),
  ];
  const skipping: RunSummary = {
    ...summary(null),
    algorithm: "cada",
    uploads: {
      perWorker: [2, 2],
      possible: 8,
      skipRate: 0.5,
      roundsSaved: 4,
      staleness: { "0": 4, "1": 3, "2": 1 },
    },
  };
  // Training loss over a 2-step window: 4, (4 + 2)/2 = 3, 1.5, 1; uploads so far 2, 3, 4, 4.
  const at = (targetLoss: number) =>
    experimentRow("cada", lines, skipping, { target: null, targetLoss, lossWindow: 2 });
  assert.equal(at(3).uploadsToTargetLoss, 3);
  assert.equal(at(1.5).uploadsToTargetLoss, 4);
  assert.equal(at(0.5).uploadsToTargetLoss, null);
  assert.equal(at(3).uploads, 4);
  assert.equal(at(3).skipRate, 0.5);
  const text = experimentTable([at(3)], { targetLoss: 3 });
  assert.match(text, /uploads \(skipped\)\s+uploads to training loss 3/);
  assert.match(text, /cada ×2 .* 4 \(50\.0%\)\s+3\s/);
});

Deno.test("experiment.json: every known key is checked, an unknown one is named", () => {
  const good = { title: "t", transport: "memory", clock: "virtual", target: 0.9, targetLoss: 0.3 };
  assert.deepEqual(parseSettings({ ...good, lossWindow: 5 }, "e.json"), { ...good, lossWindow: 5 });
  assert.throws(
    () => parseSettings({ targetLos: 0.3 }, "e.json"),
    new CliInputError(
      'e.json: unknown key "targetLos" (known: title, transport, clock, target, targetLoss, targetBits, lossWindow)',
    ),
  );
  assert.throws(() => parseSettings({ target: 90 }, "e.json"), /"target" must be an accuracy in/);
  assert.throws(() => parseSettings({ lossWindow: 0.5 }, "e.json"), /positive integer, got 0\.5/);
  assert.throws(() => parseSettings([], "e.json"), /e\.json: expected a JSON object/);
});

Deno.test("experiment runs every pipeline of a folder and compares them", async () => {
  const folder = await Deno.makeTempDir({ prefix: "gossamer_experiment_" });
  try {
    const mod = new URL("mod.ts", ROOT).href;
    const shards = new URL("examples/data/least_squares_4.json", ROOT).href;
    for (const [name, base] of [["a_all_reduce", "allReduce()"], ["b_gossip", "gossip(ring)"]]) {
      await Deno.writeTextFile(
        `${folder}/${name}.ts`,
        `import { allReduce, gossip, leastSquares, linear, network, ring, sgd, train } from "${mod}";
export default train(linear({ dim: 3 })).data(leastSquares({ file: new URL("${shards}") }))
  .workers(4).optimizer(sgd({ lr: 0.05 })).base(${base})
  .network(network({ bandwidth: "1Mbit", latency: "2ms", computeMs: 1 })).steps(10).evalEvery(5);
`,
      );
    }
    await Deno.writeTextFile(
      `${folder}/experiment.json`,
      JSON.stringify({ title: "Tiny", transport: "memory", clock: "virtual" }),
    );
    const result = await gossamer("experiment", folder, "--out", `${folder}/runs`, "--quiet");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /a_all_reduce\s+allReduce ×4/);
    assert.match(result.stdout, /b_gossip\s+gossip ×4/);
    assert.match(result.stdout, /simulated time/);
    const missing = await gossamer("experiment", `${folder}/nowhere`);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Cannot read experiment folder/);
    assert.doesNotMatch(missing.stderr, STACK_LINE);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
