import assert from "node:assert/strict";
import * as tf from "../deps/tfjs.ts";
import { selectBackend } from "./backend.ts";
import { createTransformerModel } from "./models/transformer.ts";
import { estimateMemory, transformerActivations, WORKER_BASE_BYTES } from "./memory_estimate.ts";
import { adamw, allReduce, mlp, mnist, sgd, text, train, transformer } from "../mod.ts";

/** The most bytes of tensors TensorFlow.js held at once while `run` ran, beyond those before. */
async function measuredPeak(run: () => Promise<unknown>): Promise<number> {
  const before = tf.memory().numBytes;
  const info = await tf.profile(async () => {
    await run();
  });
  return info.peakBytes - before;
}

/** Windows of token ids `0..V` and their next tokens. */
function batchOf(windows: number, t: number, vocabulary: number) {
  const x = new Float32Array(windows * t).map((_, i) => (i * 7) % vocabulary);
  return { x, y: x.map((id) => (id + 1) % vocabulary), size: windows };
}

for (
  const shape of [
    { layers: 1, dModel: 32, heads: 2, context: 16, mlpRatio: 4, vocabulary: 64, windows: 4 },
    { layers: 2, dModel: 48, heads: 3, context: 24, mlpRatio: 2, vocabulary: 96, windows: 6 },
  ]
) {
  Deno.test(`transformer activations cover the measured peak: L${shape.layers} D${shape.dModel}`, async () => {
    await selectBackend("cpu");
    const node = transformer(shape);
    const estimate = transformerActivations(node, shape.vocabulary, shape.windows);
    const model = await createTransformerModel(node, shape.vocabulary);
    try {
      const params = model.initialParameters(1);
      const train = batchOf(shape.windows, shape.context, shape.vocabulary);
      await model.gradient(params, train); // warm-up: kernels allocate nothing the next run keeps
      const gradient = await measuredPeak(() => model.gradient(params, train));
      // An evaluation of more windows than one chunk: the peak is a chunk's.
      const widest = Math.max(shape.vocabulary, shape.heads * shape.context, 4 * shape.dModel);
      const chunk = Math.floor(2 ** 22 / (shape.context * widest));
      const test = batchOf(chunk + 3, shape.context, shape.vocabulary);
      const evaluation = await measuredPeak(() => model.evaluate(params, test));
      // Errs high, but not by more than the factor the fit allows.
      assert.ok(
        estimate.gradientBytes >= gradient && estimate.gradientBytes <= 2 * gradient,
        `gradient: estimate ${estimate.gradientBytes}, measured ${gradient}`,
      );
      assert.ok(
        estimate.evaluationBytes >= evaluation && estimate.evaluationBytes <= 2 * evaluation,
        `evaluation: estimate ${estimate.evaluationBytes}, measured ${evaluation}`,
      );
    } finally {
      model.dispose();
    }
  });
}

Deno.test("a transformer plan's estimate counts its activations per worker process", () => {
  const node = transformer({ layers: 2, dModel: 128, heads: 4, context: 64 });
  const plan = train(node).data(text({ batchSize: 16 })).workers(4).optimizer(adamw({ lr: 1e-3 }))
    .base(allReduce()).compile();
  const { gradientBytes, evaluationBytes } = transformerActivations(node, 256, 16);
  const estimate = estimateMemory(plan);
  assert.equal(estimate.activationBytes, Math.max(gradientBytes, evaluationBytes));
  assert.ok(estimate.perWorkerBytes > WORKER_BASE_BYTES + estimate.activationBytes);
  // Workers sharing one isolate compute one gradient at a time: the activations count once.
  const shared = estimateMemory(plan, true);
  const isolate = estimate.perWorkerBytes - shared.perWorkerBytes;
  assert.ok(isolate >= WORKER_BASE_BYTES + estimate.activationBytes);
  assert.equal(estimate.totalBytes - shared.totalBytes, 3 * isolate);
});

Deno.test("models other than the transformer have no activation term", () => {
  const plan = train(mlp({ hidden: [64] })).data(mnist()).workers(2).optimizer(sgd({ lr: 0.1 }))
    .base(allReduce()).compile();
  assert.equal(estimateMemory(plan).activationBytes, 0);
});
