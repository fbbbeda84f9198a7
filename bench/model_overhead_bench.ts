/**
 * Per-step overhead of the flat-vector model contract: a plain TensorFlow.js training step
 * (`tf.variableGrads` + an SGD update of the variables in place, no `model.fit`) against our
 * `TrainableModel` step (write the flat parameters into the variables, `gradient`, read back one
 * flat gradient, SGD on the flat `Float32Array`), for the same MLP [128] on the same real MNIST
 * batch on the WASM backend. The runtime's target is at most 5% overhead per step.
 *
 * Run: `deno bench -A bench/model_overhead_bench.ts` (Deno's statistics), or
 * `deno run -A bench/model_overhead_bench.ts [rounds]` (interleaved medians and the median paired
 * difference as the overhead in percent).
 *
 * @module
 */

import * as tf from "../deps/tfjs.ts";
import { selectBackend } from "../runtime/backend.ts";
import { plainStep } from "./_plain_step.ts";
import { loadMnist, mnistBatch, splitMnist } from "../runtime/data/mnist.ts";
import { buildTfModel, tfTrainableModel } from "../runtime/models/tf_model.ts";
import type { Batch } from "../runtime/data/types.ts";
import type { TrainableModel } from "../runtime/models/types.ts";
import { dataShape } from "../dsl/shapes.ts";
import { mlp } from "../dsl/models/mod.ts";
import { mnist } from "../dsl/data/mod.ts";

const LR = 0.05;
const NODE = mlp({ hidden: [128] });
const SHAPE = dataShape(mnist());

const selection = await selectBackend("wasm");
const digits = await loadMnist();
const split = splitMnist(digits, { trainSize: 8000, testSize: 2000 }, 1);

/** A real MNIST batch of `size` training digits. */
function batchOf(size: number): Batch {
  return mnistBatch(digits, split.train.subarray(0, size));
}

/** Our step: flat parameters in, flat gradient out, SGD on the flat vector. */
async function flatStep(
  model: TrainableModel,
  params: Float32Array,
  batch: Batch,
): Promise<number> {
  const { loss, grad } = await model.gradient(params, batch);
  for (let i = 0; i < params.length; i++) params[i] = params[i]! - LR * grad[i]!;
  return loss;
}

/** A plain model and one of ours, with the same initial weights. */
function setup() {
  const plain = buildTfModel(NODE, SHAPE).model;
  const ours = tfTrainableModel(buildTfModel(NODE, SHAPE));
  const params = ours.initialParameters(1);
  let offset = 0;
  tf.tidy(() => {
    for (const weight of plain.trainableWeights) {
      const size = weight.shape.reduce((a, b) => a! * b!, 1)!;
      weight.write(tf.tensor(params.slice(offset, offset + size), weight.shape as number[]));
      offset += size;
    }
  });
  return { plain, ours, params };
}

for (const size of [32, 128]) {
  const batch = batchOf(size);
  const { plain, ours, params } = setup();
  Deno.bench({
    name: `plain tfjs step (variableGrads + in-place SGD), batch ${size}`,
    group: `mlp [128] mnist batch ${size} on ${selection.backend}`,
    baseline: true,
    fn: () => {
      plainStep(plain, batch, LR);
    },
  });
  Deno.bench({
    name: `TrainableModel step (flat params in, flat gradient out, flat SGD), batch ${size}`,
    group: `mlp [128] mnist batch ${size} on ${selection.backend}`,
    fn: async () => {
      await flatStep(ours, params, batch);
    },
  });
}

/** Median of a list. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Mean of a list. */
function mean(values: number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** Interleaved timing of both steps, reported as medians and the overhead in percent. */
async function report(size: number, rounds: number): Promise<void> {
  const batch = batchOf(size);
  const { plain, ours, params } = setup();
  const plainTimes: number[] = [];
  const oursTimes: number[] = [];
  const differences: number[] = [];
  for (let i = 0; i < 20; i++) {
    plainStep(plain, batch, LR);
    await flatStep(ours, params, batch);
  }
  for (let i = 0; i < rounds; i++) {
    // Alternate the order so that neither step always follows the other.
    let a: number;
    let b: number;
    if (i % 2 === 0) {
      let start = performance.now();
      plainStep(plain, batch, LR);
      a = performance.now() - start;
      start = performance.now();
      await flatStep(ours, params, batch);
      b = performance.now() - start;
    } else {
      let start = performance.now();
      await flatStep(ours, params, batch);
      b = performance.now() - start;
      start = performance.now();
      plainStep(plain, batch, LR);
      a = performance.now() - start;
    }
    plainTimes.push(a);
    oursTimes.push(b);
    differences.push(b - a);
  }
  const a = median(plainTimes);
  const b = median(oursTimes);
  const d = median(differences);
  const meanA = mean(plainTimes);
  const meanB = mean(oursTimes);
  console.log(
    `batch ${String(size).padStart(3)}: median plain tfjs ${a.toFixed(3)} ms/step, TrainableModel ${
      b.toFixed(3)
    } ms/step, median paired difference ${(d * 1000).toFixed(0)} µs = ${
      ((d / a) * 100).toFixed(1)
    }% overhead; mean ${meanA.toFixed(3)} vs ${meanB.toFixed(3)} ms/step = ${
      (((meanB - meanA) / meanA) * 100).toFixed(1)
    }%`,
  );
  plain.dispose();
  ours.dispose();
}

if (import.meta.main) {
  console.log(`mlp [128] on MNIST, backend ${selection.backend} (${selection.reason})`);
  for (const size of [32, 128]) await report(size, Number(Deno.args[0] ?? 400));
}
