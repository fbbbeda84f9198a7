/**
 * One worker's training step of the demo transformer (layers 2, dModel 64, heads 4, context 64,
 * 16 windows per batch, vocabulary 256: the byte tokenizer; `--d-model 128` for the wider one) on
 * one core: the flat parameters in,
 * `gradient`, one SGD update of the flat vector, as a worker runs it. Prints the median time per
 * step and tokens per second (16 × 64 = 1024 target tokens a step). Batches are random byte
 * windows: the time of a step does not depend on which tokens it sees.
 *
 * With `--profile` it also prints where one step's kernel time goes (`tf.profile`), by kernel,
 * with matrix products split into the XNNPACK ones (2-D, untransposed, on WASM) and the batched
 * attention ones (a scalar loop on WASM), plus the cost of copying the flat vector into tensors
 * and the gradients out.
 *
 * Run: `deno run -A bench/transformer_step.ts [--backend wasm|cpu] [--steps 20] [--d-model 64]
 * [--json] [--profile]`;
 * `bench/transformer_step_compare.ts` runs it beside PyTorch's CPU step on the same shapes.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type BackendRequest, selectBackend } from "../runtime/backend.ts";
import * as tf from "../deps/tfjs.ts";
import { createTransformerModel, transformerTensors } from "../runtime/models/transformer.ts";
import { randomStream } from "../runtime/random.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    backend: { type: "string", default: "wasm" },
    steps: { type: "string", default: "20" },
    json: { type: "boolean", default: false },
    profile: { type: "boolean", default: false },
    "d-model": { type: "string", default: "64" },
  },
});

/** The demo model and batch (`examples/demo_lm/`), at the width asked for. */
const DEMO = {
  layers: 2,
  dModel: Number(values["d-model"]),
  heads: 4,
  context: 64,
  mlpRatio: 4,
  vocabulary: 256,
  batchSize: 16,
} as const;

const steps = Number(values.steps);
const selection = await selectBackend(values.backend as BackendRequest);
const model = await createTransformerModel(DEMO, DEMO.vocabulary);
const random = randomStream(1, "bench-windows");
const tokens = DEMO.batchSize * DEMO.context;
/** A batch of random byte windows: inputs and their next tokens. */
const batchOf = () => {
  const stream = Float32Array.from({ length: tokens + 1 }, () => random.integer(256));
  return { x: stream.subarray(0, tokens), y: stream.subarray(1), size: DEMO.batchSize };
};
const params = model.initialParameters(1);
const grad = new Float32Array(model.parameterCount);
const times: number[] = [];
for (let step = -3; step < steps; step++) {
  const batch = batchOf();
  const start = performance.now();
  await model.gradient(params, batch, grad);
  for (let i = 0; i < params.length; i++) params[i] = params[i]! - 0.01 * grad[i]!;
  if (step >= 0) times.push(performance.now() - start);
}
if (values.profile) await profile();
model.dispose();
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const result = {
  implementation: `gossamer tfjs ${selection.backend}`,
  threads: 1,
  msPerStep: median,
  tokensPerSecond: tokens / (median / 1000),
  parameters: model.parameterCount,
};
if (values.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(
    `${result.implementation}: ${result.parameters} parameters, median ${
      median.toFixed(1)
    } ms/step over ${steps} steps, ${result.tokensPerSecond.toFixed(0)} tokens/s`,
  );
}

/** Prints one step's kernel time by kind (mean of three profiled steps). */
async function profile(): Promise<void> {
  const kinds = new Map<string, number>();
  const batch = batchOf();
  for (let round = 0; round < 3; round++) {
    const info = await tf.profile(async () => {
      await model.gradient(params, batch, grad);
    });
    for (const kernel of info.kernels) {
      // Wrappers (custom gradients, fused ops) whose time includes their kernels'.
      if (kernel.name === "forward" || kernel.name.endsWith("__op")) continue;
      const first = (kernel.inputShapes as number[][])[0]!;
      const kind = !kernel.name.endsWith("MatMul")
        ? kernel.name
        : first.length === 3 && first[0]! > 1
        ? "batched attention products"
        : "2-D products";
      kinds.set(kind, (kinds.get(kind) ?? 0) + (kernel.kernelTimeMs as number) / 3);
    }
  }
  const total = [...kinds.values()].reduce((a, b) => a + b, 0);
  console.log(`kernel time of one step: ${total.toFixed(1)} ms`);
  for (const [kind, ms] of [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    console.log(`  ${kind.padEnd(28)} ${ms.toFixed(1).padStart(7)} ms`);
  }
  const shapes = transformerTensors(DEMO, DEMO.vocabulary).map((t) => [...t.shape]);
  let start = performance.now();
  for (let round = 0; round < 20; round++) {
    let offset = 0;
    tf.dispose(shapes.map((shape) => {
      const size = shape.reduce((a, b) => a * b, 1);
      offset += size;
      return tf.tensor(params.subarray(offset - size, offset), shape);
    }));
  }
  console.log(`  flat vector → tensors       ${((performance.now() - start) / 20).toFixed(2)} ms`);
  const tensors = tf.tidy(() => shapes.map((shape) => tf.ones(shape)));
  // As the model reads them on WASM: views of the heap, one copy each into the flat vector.
  const heap = tf.backend() as unknown as { typedArrayFromHeap(t: tf.TensorInfo): Float32Array };
  const read = (t: tf.Tensor) =>
    selection.backend === "wasm"
      ? heap.typedArrayFromHeap({ dataId: t.dataId, shape: t.shape, dtype: "float32" })
      : t.dataSync() as Float32Array;
  start = performance.now();
  for (let round = 0; round < 20; round++) {
    let offset = 0;
    for (const tensor of tensors) {
      grad.set(read(tensor), offset);
      offset += tensor.size;
    }
  }
  console.log(`  gradients → flat vector     ${((performance.now() - start) / 20).toFixed(2)} ms`);
  tf.dispose(tensors);
}
