/**
 * Synchronous data-parallel SGD (docs/algorithms.md §1.1).
 *
 * @module
 */

import type { AllReduceNode } from "../../dsl/plan.ts";
import type { BaseAlgorithm, BaseContext } from "./types.ts";
import { checkSameLength, moveInPlace } from "./_vector.ts";

/**
 * The `allReduce` base: every step `ĝ = avg_i(g_i)` by one exact all-reduce of `d` floats
 * (phase `"base"`), and every worker applies its optimizer to `ĝ`:
 * `x −= γ_k · dir(ĝ)`. Models stay bit-identical because every rank receives the same `ĝ` and
 * runs the same deterministic optimizer from the same `x_0`. (Synchronous mini-batch SGD as in
 * Goyal et al. 2017; the baseline of every paper in docs/algorithms.md §6.)
 *
 * With a compressor, `ĝ` is the compressed mean of the gradients instead (phase
 * `"compressed"`, docs/algorithms.md §3), still identical on every rank. The gradient each
 * worker hands to the compressor already carries the optimizer's coupled weight decay,
 * `g_i + wd · x` (docs/algorithms.md §0: the decay is part of `g_i`), so it goes through the
 * compressor's momentum, error feedback and codec like the rest of the gradient, and the
 * optimizer does not add it again. AdamW's decay is decoupled: the compressor gets the bare
 * gradient and the optimizer adds `wd · x` to its direction of the decoded mean.
 *
 * A channel that returns the model update itself (`returnsUpdate`: FetchSGD, whose learning rate
 * enters its error sketch, §3.5) is handed `γ_k` and its result moves the model as it is,
 * `x −= update`, without the optimizer (plain SGD without momentum, whose coupled decay is
 * already in the gradient; the validator refuses `clipNorm` there, as no mean gradient exists).
 *
 * Gradient clipping (`clipNorm`) acts on what the optimizer is handed: the mean gradient, after
 * the all-reduce or after the compressed mean is decoded (as PyTorch DDP users clip after the
 * all-reduce), so every rank clips the same vector by the same factor.
 *
 * @param _node The `allReduce` node (it has no options).
 * @param context The worker's communicator, `x_0`, optimizer, gradient oracle and compressor.
 * @returns The worker's base algorithm; `model()` returns a copy of `x`.
 */
export function allReduceBase(_node: AllReduceNode, context: BaseContext): BaseAlgorithm {
  const { comm, optimizer, gradient, compressor } = context;
  let x: Float32Array = context.x0.slice();
  // The gradient's buffer, reused every step: it is averaged in place and used up within the
  // step. A compressor gets a fresh one (it may keep what it was given).
  const scratch = compressor === null ? new Float32Array(x.length) : undefined;
  return {
    async step(k, lr) {
      const { loss, grad } = await gradient(x, scratch);
      if (compressor === null) {
        // The gradient is this step's own vector, so it is averaged in place; the optimizer adds
        // the decay to the mean (the same, as every model is the same).
        const mean = await comm.allReduceMeanInPlace(grad, "base");
        moveInPlace(x, lr, optimizer.direction(mean, x));
      } else if (compressor.returnsUpdate === true) {
        // The channel applied γ_k and its own momentum (FetchSGD): its result is the update.
        moveInPlace(x, 1, await compressor.mean(optimizer.decay(grad, x), k, lr));
      } else {
        const mean = await compressor.mean(optimizer.decay(grad, x), k, lr);
        moveInPlace(x, lr, optimizer.direction(mean, x, true));
      }
      return { loss };
    },
    model: () => x.slice(),
    setModel(value) {
      checkSameLength(x, value, "the new model");
      x = value.slice();
    },
    // The model itself, so a checkpoint holds everything the step needs.
    buffers: () => [{ name: "allReduce.x", data: x, momentum: false }],
    resetMomentum() {},
  };
}
