/**
 * One step of a plain TensorFlow.js training loop, the reference the runtime's overhead is
 * measured against: softmax cross-entropy on the logits of an MNIST classifier,
 * `tf.variableGrads`, and an in-place SGD update of the variables.
 *
 * @module
 */

import * as tf from "../deps/tfjs.ts";
import type { Batch } from "../runtime/data/types.ts";

/**
 * Trains `model` one step on `batch` (784 inputs, 10 classes) with learning rate `lr`.
 *
 * @param model A layers model producing logits.
 * @param batch The batch.
 * @param lr The learning rate.
 * @returns The batch loss (read back, as the runtime reads every step's loss).
 */
export function plainStep(model: tf.LayersModel, batch: Batch, lr: number): number {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const value = tf.tidy(() => {
    const x = tf.tensor2d(batch.x, [batch.size, 784]);
    const labels = tf.oneHot(tf.tensor1d(Int32Array.from(batch.y), "int32"), 10);
    // The same loss as the runtime's models, so only the runtime's own work differs.
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.apply(x) as tf.Tensor;
      return tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(labels, logits), 1)));
    }, variables);
    for (const v of variables) v.assign(tf.sub(v, tf.mul(lr, grads[v.name]!)));
    return value;
  });
  const loss = value.dataSync()[0]!;
  value.dispose();
  return loss;
}
