/**
 * Synchronous data-parallel SGD (ALGORITHMS.md §1.1).
 *
 * @module
 */

import type { BaseAlgorithm, BaseContext } from "./types.ts";
import { checkSameLength, moveInPlace } from "./_vector.ts";
import { baseNodeOf } from "./_nodes.ts";

/**
 * The `allReduce` base: every step `ĝ = avg_i(g_i)` by one exact all-reduce of `d` floats
 * (phase `"base"`), and every worker applies its optimizer to `ĝ`:
 * `x −= γ_k · dir(ĝ)`. Models stay bit-identical because every rank receives the same `ĝ` and
 * runs the same deterministic optimizer from the same `x_0`. (Synchronous mini-batch SGD as in
 * Goyal et al. 2017; the baseline of every paper in ALGORITHMS.md §6.)
 *
 * @param context The worker's plan, rank, communicator, `x_0`, optimizer and gradient oracle.
 * @returns The worker's base algorithm; `model()` returns a copy of `x`.
 * @throws {TypeError} When the plan's base is not `allReduce`.
 */
export function allReduceBase(context: BaseContext): BaseAlgorithm {
  baseNodeOf(context.plan, "allReduce");
  const { comm, optimizer, gradient } = context;
  let x: Float32Array = context.x0.slice();
  return {
    optimizer,
    async step(k, lr) {
      const { loss, grad } = await gradient(x);
      // The gradient is a fresh vector from the model, so it is averaged in place.
      const mean = await comm.allReduceMeanInPlace(grad, "base");
      moveInPlace(x, lr, optimizer.direction(mean, x, k));
      return { loss };
    },
    model: () => x.slice(),
    setModel(value) {
      checkSameLength(x, value, "the new model");
      x = value.slice();
    },
  };
}
