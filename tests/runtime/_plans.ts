/**
 * Small plans shared by the runtime tests: the deterministic least-squares problem of
 * `examples/data/least_squares_4.json` under each base and outer algorithm, the same algorithms
 * over a tiny transformer on a small text file, and a tiny MNIST classifier.
 *
 * @module
 */

import {
  adam,
  adamw,
  allReduce,
  bmuf,
  cada,
  chocoGossip,
  cosine,
  decentLaM,
  diloco,
  dmSgd,
  dqSgd,
  exponential,
  fetchSgd,
  gossip,
  leastSquares,
  linear,
  localSgd,
  mlp,
  mnist,
  onePeerExponential,
  overlapLocalSgd,
  type Plan,
  qsgd,
  ring,
  run,
  sgd,
  sgp,
  sketchedSgd,
  slowMo,
  sparseLoco,
  streamingDiloco,
  text,
  topK,
  train,
  transformer,
  warmup,
} from "../../mod.ts";
import type { StepLine } from "../../runtime/mod.ts";

/** The four-shard least-squares file. */
export const SHARDS = new URL("../../examples/data/least_squares_4.json", import.meta.url);

/** A least-squares pipeline on 4 workers with full batches, before its base is chosen. */
export function leastSquaresPipeline(steps = 30) {
  return train(linear({ dim: 3, init: "random" }))
    .data(leastSquares({ file: SHARDS }))
    .workers(4)
    .optimizer(sgd({ lr: 0.05 }))
    .steps(steps)
    .evalEvery(10)
    .seed(11);
}

/** One plan per implemented base, outer and compressor, on the least-squares problem. */
export function leastSquaresPlans(steps = 30): Record<string, Plan> {
  const start = leastSquaresPipeline(steps);
  return {
    allReduce: start.base(allReduce()).compile(),
    localSgd: start.base(localSgd({ tau: 3 })).compile(),
    gossipRing: start.base(gossip(ring)).compile(),
    gossipOnePeer: start.base(gossip(onePeerExponential)).compile(),
    sgpExponential: start.base(sgp(exponential)).compile(),
    slowMoOverLocalSgd: start.base(localSgd({ tau: 2 })).outer(slowMo({ tau: 6, beta: 0.5 }))
      .compile(),
    slowMoOverGossip: start.base(gossip(ring)).outer(slowMo({ tau: 5, beta: 0.6 })).compile(),
    bmufOverLocalSgd: start.base(localSgd({ tau: 2 })).outer(bmuf({ tau: 4 })).compile(),
    // AdamW inside, DiLoCo's pairing; Adam's moments kept across outer steps.
    dilocoOverLocalSgd: start.optimizer(adamw({ lr: 0.05, weightDecay: 0.01 }))
      .base(localSgd({ tau: 2 })).outer(diloco({ tau: 4, lr: 0.7, momentum: 0.9 })).compile(),
    // d = 3 in chunks of 2: one of the first two and the short last chunk's one, at 2 bits.
    sparseLocoOverLocalSgd: start.base(localSgd({ tau: 2 }))
      .outer(sparseLoco({ tau: 4, k: 1, chunk: 2, bits: 2, beta: 0.9 })).compile(),
    // The linear model is one variable, so one fragment; the sync after step 3 is in flight at
    // the checkpoint after 4 steps (resume inside an overlap window) and applied after step 4.
    streamingDilocoOverLocalSgd: start.optimizer(adamw({ lr: 0.05, weightDecay: 0.01 }))
      .base(localSgd({ tau: 4 }))
      .outer(streamingDiloco({ tau: 4, fragments: 1, overlap: 1, bits: 4 })).compile(),
    dmSgdRing: start.base(dmSgd(ring, { beta: 0.8 })).compile(),
    decentLaMOnePeer: start.base(decentLaM(onePeerExponential, { beta: 0.8 })).compile(),
    slowMoOverDmSgd: start.base(dmSgd(ring, { beta: 0.5 })).outer(
      slowMo({ tau: 4, buffers: "average" }),
    )
      .compile(),
    overlapLocalSgd: start.base(overlapLocalSgd({ tau: 3, alpha: 0.5, beta: 0.3 })).compile(),
    topKAllReduce: start.base(allReduce()).compress(topK({ k: 1 })).compile(),
    topKLocalSgd: start.base(localSgd({ tau: 3 })).compress(topK({ k: 2 })).compile(),
    adamLocalSgd: start.optimizer(adam({ lr: 0.05, amsgrad: true })).base(
      localSgd({ tau: 3, buffers: "average" }),
    ).compile(),
    cada: start.base(cada({ c: 0.5, maxDelay: 4 })).compile(),
    // AdamW with a warm-up into a cosine, clipping that binds, and its bias-correction count
    // restarted at every average.
    adamwLocalSgd: start.optimizer(
      adamw({ lr: warmup({ steps: 3, then: cosine({ lr: 0.05 }) }), clipNorm: 0.5 }),
    ).base(localSgd({ tau: 3, buffers: "reset" })).compile(),
    adamwTopK: start.optimizer(adamw({ lr: 0.05, weightDecay: 0.05, clipNorm: 1 }))
      .base(allReduce()).compress(topK({ k: 1 })).compile(),
    // Sketch-space momentum and error (float64 buffers) carried through checkpoints.
    fetchSgdAllReduce: start.base(allReduce())
      .compress(fetchSgd({ rows: 3, cols: 2, k: 2, rho: 0.9 })).compile(),
    // CHOCO-SGD: top-1 differences to the public copies; QSGD's draws and an outer step that
    // sets every model (the public copies stay as they were).
    chocoRingTopK: start.base(chocoGossip(ring, { gamma: 0.5 }))
      .compress(topK({ k: 1, errorFeedback: false })).compile(),
    slowMoOverChocoQsgd: start.base(chocoGossip(exponential, { gamma: 0.6 }))
      .compress(qsgd({ bits: 2 })).outer(slowMo({ tau: 5, beta: 0.5 })).compile(),
  };
}

/**
 * Writes a small English text (about 5 KB of ASCII) to `path`: with 4 workers, context 8 and
 * validation 0.1, every worker's contiguous share holds over a hundred windows of 9 bytes and the
 * validation part about fifty.
 */
export async function writeTinyText(path: string): Promise<void> {
  const sentences = [
    "Call me Ishmael. Some years ago, never mind how long precisely, having little money",
    "in my purse, and nothing particular to interest me on shore, I thought I would sail",
    "about a little and see the watery part of the world. It is a way I have of driving",
    "off the spleen and regulating the circulation. Whenever I find myself growing grim",
    "about the mouth; whenever it is a damp, drizzly November in my soul, then I account",
    "it high time to get to sea as soon as I can. This is my substitute for pistol and ball.",
  ];
  const lines = Array.from({ length: 60 }, (_, i) => sentences[(i * 5) % sentences.length]!);
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
}

/**
 * One plan per implemented base, outer and compressor over a tiny transformer (1 layer,
 * dModel 8, 2 heads, context 8: 3,000 parameters) on the text file `file`, 4 workers: the
 * algorithms of {@linkcode leastSquaresPlans} and every compressor × base pair that
 * compiles. AdamW (warm-up, clipping) wherever the base and compressor accept an optimizer with
 * state; plain SGD where they carry their own momentum (dmSgd, decentLaM, sketchedSgd) or their
 * own Adam (cada).
 */
export function transformerPlans(file: string, steps = 4): Record<string, Plan> {
  const start = train(transformer({ layers: 1, dModel: 8, heads: 2, context: 8 }))
    .data(text({ file, batchSize: 4 }))
    .workers(4)
    .steps(steps)
    .evalEvery(steps)
    .seed(5);
  const plain = start.optimizer(sgd({ lr: 0.5 }));
  const stateful = start.optimizer(
    adamw({ lr: warmup({ steps: 2, then: 0.01 }), weightDecay: 0.01, clipNorm: 1 }),
  );
  return {
    allReduce: stateful.base(allReduce()).compile(),
    localSgd: stateful.base(localSgd({ tau: 2 })).compile(),
    gossipRing: stateful.base(gossip(ring)).compile(),
    gossipOnePeer: stateful.base(gossip(onePeerExponential)).compile(),
    sgpExponential: stateful.base(sgp(exponential)).compile(),
    slowMoOverLocalSgd: stateful.base(localSgd({ tau: 2, buffers: "reset" }))
      .outer(slowMo({ tau: 4, beta: 0.5 })).compile(),
    slowMoOverGossip: stateful.base(gossip(ring)).outer(slowMo({ tau: 3, beta: 0.6 })).compile(),
    bmufOverLocalSgd: stateful.base(localSgd({ tau: 2, buffers: "average" }))
      .outer(bmuf({ tau: 4 })).compile(),
    dilocoOverLocalSgd: stateful.base(localSgd({ tau: 2 })).outer(diloco({ tau: 4 })).compile(),
    sparseLocoOverLocalSgd: stateful.base(localSgd({ tau: 2 }))
      .outer(sparseLoco({ tau: 4, k: 16, chunk: 256 })).compile(),
    // 16 variables in two balanced fragments taking turns every step, 4-bit pseudo-gradients
    // (the run test covers strided fragments).
    streamingDilocoOverGossip: stateful.base(gossip(ring))
      .outer(streamingDiloco({ tau: 2, fragments: 2, split: "balanced", bits: 4 })).compile(),
    dmSgdRing: plain.base(dmSgd(ring, { beta: 0.8 })).compile(),
    decentLaMOnePeer: plain.base(decentLaM(onePeerExponential, { beta: 0.8 })).compile(),
    slowMoOverDmSgd: plain.base(dmSgd(ring, { beta: 0.5 }))
      .outer(slowMo({ tau: 2, buffers: "average" })).compile(),
    overlapLocalSgd: stateful.base(overlapLocalSgd({ tau: 2, alpha: 0.5, beta: 0.3 })).compile(),
    adamLocalSgd: start.optimizer(adam({ lr: 0.01, amsgrad: true }))
      .base(localSgd({ tau: 3, buffers: "average" })).compile(),
    cada: plain.optimizer(sgd({ lr: 0.01 })).base(cada({ c: 0.5, maxDelay: 2 })).compile(),
    qsgdAllReduce: stateful.base(allReduce()).compress(qsgd({ bits: 4 })).compile(),
    qsgdLocalSgd: stateful.base(localSgd({ tau: 2 })).compress(qsgd({ bits: 2 })).compile(),
    dqSgdAllReduce: stateful.base(allReduce()).compress(dqSgd({ budgetBits: 3 })).compile(),
    dqSgdLocalSgd: stateful.base(localSgd({ tau: 2 })).compress(dqSgd()).compile(),
    sketchedSgdAllReduce: plain.base(allReduce())
      .compress(sketchedSgd({ k: 100, cols: 500, p2: 2 })).compile(),
    fetchSgdAllReduce: plain.base(allReduce()).compress(fetchSgd({ k: 100, cols: 500 }))
      .compile(),
    topKAllReduce: stateful.base(allReduce()).compress(topK({ k: 100 })).compile(),
    topKLocalSgd: stateful.base(localSgd({ tau: 2 })).compress(topK({ k: 300 })).compile(),
    chocoRingQsgd: stateful.base(chocoGossip(ring, { gamma: 0.5 })).compress(qsgd({ bits: 4 }))
      .compile(),
    chocoRingTopK: stateful.base(chocoGossip(ring, { gamma: 0.3 }))
      .compress(topK({ k: 300, errorFeedback: false })).compile(),
  };
}

/** Shannon entropy of the byte frequencies, in bits per byte. */
export function unigramEntropyBits(bytes: Uint8Array): number {
  const counts = new Float64Array(256);
  for (const byte of bytes) counts[byte]!++;
  let bits = 0;
  for (const count of counts) {
    if (count > 0) bits -= (count / bytes.length) * Math.log2(count / bytes.length);
  }
  return bits;
}

/** A tiny MNIST classifier on 2 workers. */
export function tinyMnist(steps = 40): Plan {
  return train(mlp({ hidden: [16] }))
    .data(mnist({ trainSize: 512, testSize: 256, batchSize: 16 }))
    .workers(2)
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .steps(steps)
    .evalEvery(steps)
    .compile();
}

/** Runs a plan into a fresh folder and hands the result and folder to `use`; removes it after. */
export async function runIn<T>(
  plan: Plan,
  options: Parameters<typeof run>[1],
  use: (result: Awaited<ReturnType<typeof run>>, folder: string) => Promise<T> | T,
): Promise<T> {
  const parent = await tempRunFolder();
  try {
    const result = await run(plan, { ...options, out: `${parent}/run` });
    return await use(result, `${parent}/run`);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
}

/** A fresh temporary folder for run outputs. */
export function tempRunFolder(): Promise<string> {
  return Deno.makeTempDir({ prefix: "gossamer_run_" });
}

/** Reads a run's `metrics.jsonl` as objects. */
export async function readMetrics(folder: string): Promise<Record<string, unknown>[]> {
  const text = await Deno.readTextFile(`${folder}/metrics.jsonl`);
  return text.trim().split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

/** Reads a run's step lines, typed. */
export async function readStepLines(folder: string): Promise<StepLine[]> {
  const lines = await readMetrics(folder);
  return lines.filter((line) => line.type === "step") as unknown as StepLine[];
}

/** Fields that measure time or memory, which differ between any two runs. */
const TIMINGS = [
  "computeMs",
  "commMs",
  "elapsedMs",
  "rssBytes",
  "heapBytes",
  "tensors",
  "tensorBytes",
  "wasmBytes",
];
const ALGORITHM_TIMINGS = ["blockedMs", "allReduceMs"];

/**
 * A run's metrics lines without their timings, in a fixed order (workers interleave their lines
 * in whatever order they arrive): what two runs of one plan must agree on bit for bit.
 * `asynchronous`: also without byte counts, for collectives that run behind computation.
 */
export async function deterministicLines(
  folder: string,
  asynchronous: boolean,
): Promise<unknown[]> {
  const lines = (await readMetrics(folder)).map((line) => {
    const copy: Record<string, unknown> = { ...line };
    for (const key of TIMINGS) delete copy[key];
    // A collective that runs behind computation sends and takes messages whenever its thread
    // gets to it.
    if (asynchronous) {
      delete copy.bytesSent;
      delete copy.bytesReceived;
    }
    if (typeof copy.algorithm === "object" && copy.algorithm !== null) {
      const algorithm = { ...copy.algorithm as Record<string, unknown> };
      for (const key of ALGORITHM_TIMINGS) delete algorithm[key];
      copy.algorithm = algorithm;
    }
    return copy;
  });
  const key = (line: Record<string, unknown>) =>
    `${String(line.step).padStart(8, "0")} ${line.type} ${line.model ?? ""} ${line.worker ?? -1}`;
  return lines.sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}
