/**
 * The plain TensorFlow.js loop of `overhead.ts`: the MLP [128] trained on a one-worker plan's
 * own batches with `plainStep`. Run in the benchmark's main thread, or (this module as a Web
 * Worker's entry) in a Web Worker, as a thread worker of a run is.
 *
 * @module
 */

import * as tf from "../deps/tfjs.ts";
import { allReduce, mlp, mnist, type Plan, sgd, train } from "../mod.ts";
import { selectBackend } from "../runtime/backend.ts";
import { loadWorkerData } from "../runtime/data/worker_data.ts";
import { plainStep } from "./_plain_step.ts";

/** The learning rate of both loops. */
export const LR = 0.05;

/** A one-worker plan of the MLP with this batch size and number of steps. */
export function planWith(batchSize: number, steps: number): Plan {
  return train(mlp({ hidden: [128] }))
    .data(mnist({ batchSize }))
    .workers(1)
    .optimizer(sgd({ lr: LR }))
    .base(allReduce())
    .steps(steps)
    .evalEvery(steps)
    .compile();
}

/**
 * Milliseconds per step of the plain loop over the plan's batches, timed from step `warmUp` on.
 */
export async function plainLoopMs(
  batchSize: number,
  steps: number,
  warmUp = 20,
): Promise<number> {
  await selectBackend("wasm");
  const data = await loadWorkerData(planWith(batchSize, steps), 0);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 128, activation: "relu" }),
      tf.layers.dense({ units: 10 }),
    ],
  });
  let start = 0;
  for (let k = 0; k < steps; k++) {
    if (k === warmUp) start = performance.now();
    plainStep(model, data.batch(k), LR);
  }
  const ms = (performance.now() - start) / (steps - warmUp);
  model.dispose();
  return ms;
}

/** The same loop in a fresh Web Worker. */
export function plainLoopInWorkerMs(
  batchSize: number,
  steps: number,
  warmUp = 20,
): Promise<number> {
  const worker = new Worker(import.meta.url, { type: "module" });
  return new Promise<number>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<number>) => resolve(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(event.message));
    };
    worker.postMessage({ batchSize, steps, warmUp });
  }).finally(() => worker.terminate());
}

const scope = globalThis as unknown as {
  WorkerGlobalScope?: unknown;
  onmessage:
    | ((event: MessageEvent<{ batchSize: number; steps: number; warmUp: number }>) => void)
    | null;
  postMessage(message: unknown): void;
};
if (scope.WorkerGlobalScope !== undefined) {
  scope.onmessage = async (event) => {
    const { batchSize, steps, warmUp } = event.data;
    scope.postMessage(await plainLoopMs(batchSize, steps, warmUp));
  };
}
