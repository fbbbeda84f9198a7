/**
 * How much memory a plan needs on the machine that runs its workers, estimated before anything
 * starts, so a plan that cannot fit (a thousand workers on a laptop, a model of terabytes) is
 * refused with a message instead of swapping the machine to a halt.
 *
 * The estimate is deliberately simple and errs high: a fixed cost per isolate (V8 with
 * TensorFlow.js and its WASM backend: measured at about 180 MiB per worker thread on this
 * project's machines; thread and process workers each have one, while the memory transport runs
 * every worker in the coordinator's), each worker's data, and a number of model-sized vectors
 * (parameters, gradient, direction, optimizer and algorithm buffers, codes in flight).
 *
 * @module
 */

import type { Plan } from "../dsl/plan.ts";
import { parameterCount } from "../dsl/shapes.ts";
import { tensorsFiles } from "../dsl/data/tensors.ts";
import { EMBEDDED_TEXT_BYTES } from "../dsl/data/text.ts";

const MIB = 1024 * 1024;

/** What one worker costs before its model and data: a V8 isolate, TensorFlow.js, WASM. */
export const WORKER_BASE_BYTES = 180 * MIB;

/** The coordinator's own share: the process, its metrics and the plan. */
export const COORDINATOR_BYTES = 150 * MIB;

/**
 * Model-sized vectors a worker holds at once, generously: parameters, gradient, direction,
 * up to three optimizer buffers, the base's and outer's state (some float64), codes in flight.
 */
export const MODEL_COPIES = 12;

/** Bytes of the MNIST digits an isolate decodes once (10,000 images of 28 × 28, float32). */
const MNIST_BYTES = 10_000 * 785 * 4;

/** The estimate. */
export interface MemoryEstimate {
  /** Bytes per worker. */
  readonly perWorkerBytes: number;
  /** Bytes for every worker and the coordinator together. */
  readonly totalBytes: number;
  /** Model parameters, when known from the plan (`null` for a custom model). */
  readonly parameters: number | null;
}

/**
 * Estimates a plan's memory when all its workers run on one machine.
 *
 * @param plan The plan.
 * @param sharedIsolate Whether every worker runs in the coordinator's isolate (the memory
 *   transport), sharing one TensorFlow.js.
 * @returns Per-worker and total bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimateMemory, WORKER_BASE_BYTES } from "./memory_estimate.ts";
 * import { allReduce, mlp, mnist, sgd, train } from "../mod.ts";
 *
 * const plan = train(mlp({ hidden: [128] })).data(mnist()).workers(4).optimizer(sgd({ lr: 0.1 }))
 *   .base(allReduce()).compile();
 * const estimate = estimateMemory(plan);
 * assert.ok(estimate.perWorkerBytes > WORKER_BASE_BYTES);
 * assert.ok(estimate.totalBytes > 4 * estimate.perWorkerBytes);
 * ```
 */
export function estimateMemory(plan: Plan, sharedIsolate = false): MemoryEstimate {
  const parameters = parameterCount(plan.model, plan.data);
  const model = (parameters ?? 0) * 4 * MODEL_COPIES;
  const { isolate, worker } = dataBytes(plan);
  // What every isolate holds once (TensorFlow.js, the decoded dataset, the shared test set).
  const once = WORKER_BASE_BYTES + isolate;
  const perWorkerBytes = (sharedIsolate ? 0 : once) + model + worker;
  return {
    perWorkerBytes,
    totalBytes: COORDINATOR_BYTES + (sharedIsolate ? once : 0) + plan.workers * perWorkerBytes,
    parameters,
  };
}

/** Bytes of data an isolate holds once, and each worker's own shard. */
function dataBytes(plan: Plan): { isolate: number; worker: number } {
  const data = plan.data;
  if (data.kind === "leastSquares") return { isolate: MIB, worker: 0 };
  // The text's bytes, and its validation windows as float32 inputs and targets (a file's size is
  // known only once read: counted as 1 MiB).
  if (data.kind === "text") {
    const bytes = data.file === null ? EMBEDDED_TEXT_BYTES : MIB;
    return { isolate: bytes + 8 * data.validation * bytes, worker: 0 };
  }
  if (data.kind === "tensors") return { isolate: 2 * filesBytes(tensorsFiles(data)), worker: 0 };
  const features = data.kind === "mnist" ? 784 : data.features;
  const example = (features + 1) * 4;
  return {
    isolate: (data.kind === "mnist" ? MNIST_BYTES : 0) + data.testSize * example,
    worker: Math.ceil(data.trainSize / plan.workers) * example,
  };
}

/**
 * Bytes of the files that exist among `paths`: a `tensors` data set's size is known only from its
 * files, each read once and decoded to float32 about as large (a worker's shard is a part of it).
 */
function filesBytes(paths: readonly string[]): number {
  let total = 0;
  for (const path of paths) {
    try {
      total += Deno.statSync(path).size;
    } catch {
      // A missing file is reported by the resource check, not here.
    }
  }
  return total;
}

/**
 * Why a plan cannot run on this machine, or `null` when it fits: its estimate against the memory
 * the system says is available.
 *
 * @param plan The plan.
 * @param sharedIsolate Whether every worker runs in the coordinator's isolate.
 * @param available Bytes available (default: the system's, from `Deno.systemMemoryInfo()`).
 * @returns The reason, in words, or `null`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryProblem } from "./memory_estimate.ts";
 * import { allReduce, mlp, mnist, sgd, train } from "../mod.ts";
 *
 * const plan = train(mlp({ hidden: [128] })).data(mnist()).workers(1000)
 *   .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
 * assert.match(memoryProblem(plan, false, 24 * 2 ** 30)!, /needs about \d+\.\d GiB/);
 * // The same workers in one thread share one TensorFlow.js: they fit.
 * assert.equal(memoryProblem(plan, true, 24 * 2 ** 30), null);
 * ```
 */
export function memoryProblem(
  plan: Plan,
  sharedIsolate = false,
  available?: number,
): string | null {
  const estimate = estimateMemory(plan, sharedIsolate);
  const free = available ?? Deno.systemMemoryInfo().available;
  if (estimate.totalBytes <= free) return null;
  const gib = (bytes: number) =>
    bytes < 2 ** 30 ? `${Math.round(bytes / MIB)} MiB` : `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  return `this plan needs about ${
    gib(estimate.totalBytes)
  } on this machine (${plan.workers} workers × ${gib(estimate.perWorkerBytes)}${
    estimate.parameters === null
      ? ""
      : `, with ${estimate.parameters.toLocaleString("en-US")} parameters`
  }), and ${
    gib(free)
  } is available: use fewer workers or a smaller model, run workers on other machines (--launch none), or pass --ignore-memory if you know better`;
}
