/**
 * Local SGD, periodic model averaging (ALGORITHMS.md §1.2).
 *
 * @module
 */

import type { BaseAlgorithm, BaseContext } from "./types.ts";
import { applyBufferPolicy } from "./optimizers.ts";
import { checkSameLength, endsPeriod, moveInPlace } from "./_vector.ts";
import { baseNodeOf } from "./_nodes.ts";

/**
 * The `localSgd({ tau, buffers })` base (Stich 2019, "Local SGD converges fast and communicates
 * little"; Lin et al. 2020): every step `x_i −= γ_k · dir_i(g_i)` with no communication; after
 * step `k` with `(k + 1) mod tau == 0`, `x_i = avg_j(x_j)` by one exact all-reduce (phase
 * `"base"`), then the node's buffer policy (`"average"` also under `"base"`). With `tau = 1` and
 * plain SGD this is `allReduce()` up to rounding.
 *
 * @param context The worker's plan, rank, communicator, `x_0`, optimizer and gradient oracle.
 * @returns The worker's base algorithm; `model()` returns a copy of `x_i`.
 * @throws {TypeError} When the plan's base is not `localSgd`.
 */
export function localSgdBase(context: BaseContext): BaseAlgorithm {
  const node = baseNodeOf(context.plan, "localSgd");
  const { comm, optimizer, gradient } = context;
  let x: Float32Array = context.x0.slice();
  return {
    optimizer,
    async step(k, lr) {
      const { loss, grad } = await gradient(x);
      moveInPlace(x, lr, optimizer.direction(grad, x, k));
      if (endsPeriod(k, node.tau)) {
        await comm.allReduceMeanInPlace(x, "base");
        await applyBufferPolicy(node.buffers, optimizer, comm, "base");
      }
      return { loss };
    },
    model: () => x.slice(),
    setModel(value) {
      checkSameLength(x, value, "the new model");
      x = value.slice();
    },
  };
}
