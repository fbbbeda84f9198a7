/**
 * Per-step overhead of the whole runtime: one worker running a plan (worker loop, algorithm,
 * communicator, metrics) against a plain TensorFlow.js training loop of the same model, data
 * batches and backend, in the same process. The target is at most 5% slower.
 *
 * The plain loop trains the same MLP with `tf.variableGrads` and an in-place SGD update on the
 * very batches the plan's worker sees (`loadWorkerData(plan, 0).batch(k)`). The plan runs with
 * the memory transport in this thread (same process, same engine) and, for reference, as one
 * TCP thread worker. Times per step exclude start-up (from the workers' own step stamps).
 *
 * Run: `deno run -A bench/overhead.ts [steps]` (default 300; part of `deno task bench`).
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs";
import { allReduce, mlp, mnist, sgd, train } from "../mod.ts";
import { table } from "../report/format.ts";
import { selectBackend } from "../runtime/backend.ts";
import { loadWorkerData } from "../runtime/data/worker_data.ts";
import type { WorkerData } from "../runtime/models/types.ts";
import { benchRun, stepsPerSecond } from "./_runs.ts";
import { plainStep } from "./_plain_step.ts";

const steps = Number(Deno.args[0] ?? 300);
const LR = 0.05;
await selectBackend("wasm");

/** A one-worker plan with the given batch size. */
function planWith(batchSize: number) {
  return train(mlp({ hidden: [128] }))
    .data(mnist({ batchSize }))
    .workers(1)
    .optimizer(sgd({ lr: LR }))
    .base(allReduce())
    .steps(steps)
    .evalEvery(steps)
    .compile();
}

/** Milliseconds per step of a plain tfjs loop over the plan's batches (after 20 warm-up steps). */
function plainLoop(data: WorkerData): number {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 128, activation: "relu" }),
      tf.layers.dense({ units: 10 }),
    ],
  });
  let start = 0;
  for (let k = 0; k < steps; k++) {
    if (k === 20) start = performance.now();
    plainStep(model, data.batch(k), LR);
  }
  const ms = (performance.now() - start) / (steps - 20);
  model.dispose();
  return ms;
}

const rows: string[][] = [];
const best = (values: number[]) => Math.min(...values);
for (const batchSize of [32, 128]) {
  const plan = planWith(batchSize);
  const data = await loadWorkerData(plan, 0);
  const plain: number[] = [];
  const memory: number[] = [];
  for (let round = 0; round < 2; round++) {
    plain.push(plainLoop(data));
    const { steps: lines } = await benchRun(plan, { transport: "memory", backend: "wasm" });
    memory.push(1000 / stepsPerSecond(lines.filter((line) => line.step >= 20)));
  }
  const { steps: tcpLines } = await benchRun(plan, { transport: "tcp", backend: "wasm" });
  const tcp = 1000 / stepsPerSecond(tcpLines.filter((line) => line.step >= 20));
  const reference = best(plain);
  const row = (name: string, ms: number) => [
    String(batchSize),
    name,
    ms.toFixed(3),
    `${(ms / reference).toFixed(3)}×`,
    `${(ms - reference).toFixed(3)}`,
  ];
  rows.push(row("plain TensorFlow.js loop", reference));
  rows.push(row("gossamer plan, memory transport (same thread)", best(memory)));
  rows.push(row("gossamer plan, one TCP thread worker", tcp));
}
console.log(`Per-step overhead, mlp [128] on MNIST, wasm, ${steps} steps (best of 2)`);
console.log(table(["batch", "loop", "ms/step", "vs plain", "extra ms"], rows));
