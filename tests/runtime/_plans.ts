/**
 * Small plans shared by the runtime tests: the deterministic least-squares problem of
 * `examples/data/least_squares_4.json` under each base and outer algorithm, and a tiny MNIST
 * classifier.
 *
 * @module
 */

import {
  adam,
  adamw,
  allReduce,
  bmuf,
  cada,
  cosine,
  decentLaM,
  dmSgd,
  exponential,
  gossip,
  leastSquares,
  linear,
  localSgd,
  mlp,
  mnist,
  onePeerExponential,
  overlapLocalSgd,
  type Plan,
  ring,
  sgd,
  sgp,
  slowMo,
  topK,
  train,
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
  };
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
