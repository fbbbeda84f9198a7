/**
 * How much memory a plan needs on the machine that runs its workers, estimated before anything
 * starts, so a plan that cannot fit (a thousand workers on a laptop, a model of terabytes) is
 * refused with a message instead of swapping the machine to a halt.
 *
 * The estimate is deliberately simple and errs high: a fixed cost per isolate (V8 with
 * TensorFlow.js and its WASM backend: measured at about 180 MiB per worker thread on this
 * project's machines; thread and process workers each have one, while the memory transport runs
 * every worker in the coordinator's), each worker's data, and a number of model-sized vectors
 * (parameters, gradient, direction, optimizer and algorithm buffers, codes in flight), and for a
 * transformer its activations (see {@linkcode transformerActivations}): for the demo's
 * language model they are most of a worker's memory, far more than its parameters.
 *
 * @module
 */

import type { Plan } from "../dsl/plan.ts";
import { dataShape, parameterCount } from "../dsl/shapes.ts";
import type { TransformerNode } from "../dsl/models/transformer.ts";
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
  /** Of `perWorkerBytes`: the activations a step or an evaluation holds at once (0 if not known). */
  readonly activationBytes: number;
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
  const activationBytes = activationsOf(plan);
  // What every isolate holds once (TensorFlow.js, the decoded dataset, the shared test set, and
  // the activations: workers sharing an isolate compute their gradients one after the other).
  const once = WORKER_BASE_BYTES + isolate + activationBytes;
  const perWorkerBytes = (sharedIsolate ? 0 : once) + model + worker;
  return {
    perWorkerBytes,
    totalBytes: COORDINATOR_BYTES + (sharedIsolate ? once : 0) + plan.workers * perWorkerBytes,
    parameters,
    activationBytes,
  };
}

/** The activations of a plan's model, where known: a transformer's; 0 for the others. */
function activationsOf(plan: Plan): number {
  if (plan.model.kind !== "transformer") return 0;
  const vocabulary = dataShape(plan.data).classes;
  const batch = (plan.data as { batchSize?: number }).batchSize;
  if (vocabulary === null || batch === undefined) return 0;
  const { gradientBytes, evaluationBytes } = transformerActivations(plan.model, vocabulary, batch);
  return Math.max(gradientBytes, evaluationBytes);
}

/** Floats of the largest activation of one evaluation chunk (runtime/models/transformer.ts). */
const EVAL_FLOATS = 1 << 22;

/** A transformer's peak activations, for a training step and for an evaluation chunk. */
export interface TransformerActivations {
  /** The gradient of one training batch. */
  readonly gradientBytes: number;
  /** One chunk of an evaluation (forward only). */
  readonly evaluationBytes: number;
}

/**
 * The most bytes of TensorFlow.js tensors a transformer holds at once: for a gradient of a batch
 * of `windows` windows, and for one chunk of an evaluation (as many windows as keep its largest
 * activation near 2²² floats, as `runtime/models/transformer.ts` chunks). Both run inside one
 * `tf.tidy`, which frees nothing until it ends, so the peak is every tensor the pass creates
 * (for the gradient, also everything backpropagation creates); on the WASM backend the
 * WebAssembly heap grows to about this and never shrinks.
 *
 * With `n = windows · T` positions, `F = mlpRatio · D` and `P` parameters, in floats: gradient
 * `L (64 n D + 14 n F + 44 B H T² + 8 n) + 16 n D + 17 n V + 8 n + 13 P`; evaluation of `w`
 * windows (`n = w T`) `L (16 n D + 7 n F + 4 w H T² + 8 n) + 6 n D + 5 n V + 8 n + 2 P`. The
 * terms are the tensors of LayerNorm, attention (the `B H T²` scores), the MLP and the head with
 * their gradients; the coefficients are rounded up to cover TensorFlow.js's measured peak
 * (`tf.profile`) on both the WASM and CPU backends over shapes of 1 to 4 layers, widths 32 to
 * 300, mlpRatio 2 to 8 and vocabularies of 64 to 512, which they exceed by 2 to 80 %
 * (`memory_estimate_test.ts` checks two shapes against the measured peak).
 *
 * @param node The transformer's sizes.
 * @param vocabulary `V`.
 * @param windows Windows per training batch, `B`.
 * @returns Bytes of each.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { transformerActivations } from "./memory_estimate.ts";
 * import { transformer } from "../dsl/models/mod.ts";
 * // The demo's model: hundreds of MiB of activations for 0.44 million parameters.
 * const demo = transformer({ layers: 2, dModel: 128, heads: 4, context: 64 });
 * const { gradientBytes, evaluationBytes } = transformerActivations(demo, 256, 16);
 * assert.ok(gradientBytes > 200 * 2 ** 20 && evaluationBytes > gradientBytes);
 * ```
 */
export function transformerActivations(
  node: TransformerNode,
  vocabulary: number,
  windows: number,
): TransformerActivations {
  const { layers: l, dModel: d, heads: h, context: t } = node;
  const f = node.mlpRatio * d;
  const p = l * (4 * d * d + 2 * d * f + 9 * d + f) + (vocabulary + t + 2) * d;
  const pass = (w: number, perLayer: readonly number[], once: readonly number[]) => {
    const n = w * t;
    const [ad, af, as] = perLayer as [number, number, number];
    const [bd, bv, bp] = once as [number, number, number];
    // And 8 per position per block and outside them: LayerNorm's means, the softmax's sums.
    return 4 * (l * (ad * n * d + af * n * f + as * w * h * t * t + 8 * n) + bd * n * d +
      bv * n * vocabulary + 8 * n + bp * p);
  };
  const chunk = Math.max(1, Math.floor(EVAL_FLOATS / (t * Math.max(vocabulary, h * t, f, 3 * d))));
  return {
    gradientBytes: pass(windows, [64, 14, 44], [16, 17, 13]),
    evaluationBytes: pass(chunk, [16, 7, 4], [6, 5, 2]),
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
