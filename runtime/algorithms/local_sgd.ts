/**
 * Local SGD, periodic model averaging (docs/algorithms.md §1.2).
 *
 * @module
 */

import type { LocalSgdNode } from "../../dsl/plan.ts";
import type { BaseAlgorithm, BaseContext } from "./types.ts";
import { checkSameLength, endsPeriod, moveInPlace } from "./_vector.ts";

/**
 * The `localSgd({ tau, buffers })` base (Stich 2019, "Local SGD converges fast and communicates
 * little"; Lin et al. 2020): every step `x_i −= γ_k · dir_i(g_i)` with no communication; after
 * step `k` with `(k + 1) mod tau == 0`, `x_i = avg_j(x_j)` by one exact all-reduce (phase
 * `"base"`), then the node's buffer policy (`"average"` also under `"base"`). With `tau = 1` and
 * plain SGD this is `allReduce()` up to rounding.
 *
 * When the outer algorithm averages after the same step, the base's own average is skipped
 * (the outer step averages anyway) and only the buffer policy runs.
 *
 * With a compressor, the workers average their model differences since the last
 * synchronisation instead: `x_i = x_sync + mean_j(x_j − x_sync)` by the compressed mean (phase
 * `"compressed"`), where `x_sync` is the common model after the last synchronisation (or the
 * outer step's restart model). Every rank gets the same mean, so models agree again.
 *
 * @param node The `localSgd` node.
 * @param context The worker's communicator, `x_0`, optimizer, gradient oracle, compressor and
 *   buffer policy.
 * @returns The worker's base algorithm; `model()` returns a copy of `x_i`.
 */
export function localSgdBase(node: LocalSgdNode, context: BaseContext): BaseAlgorithm {
  const { comm, optimizer, gradient, compressor } = context;
  let x: Float32Array = context.x0.slice();
  // The common model of the last synchronisation (compression only).
  const synced: Float32Array | null = compressor === null ? null : context.x0.slice();

  /** Averages the models: exactly, or through the compressed mean of the differences. */
  const average = async (k: number) => {
    if (compressor === null || synced === null) {
      await comm.allReduceMeanInPlace(x, "base");
      return;
    }
    const difference = new Float32Array(x.length);
    for (let t = 0; t < x.length; t++) difference[t] = x[t]! - synced[t]!;
    const mean = await compressor.mean(difference, k);
    for (let t = 0; t < x.length; t++) x[t] = synced[t]! + mean[t]!;
    synced.set(x);
  };

  // The gradient's buffer, reused every step: it is used up by the local move.
  const scratch = new Float32Array(x.length);
  return {
    async step(k, lr) {
      const { loss, grad } = await gradient(x, scratch);
      moveInPlace(x, lr, optimizer.direction(grad, x));
      if (endsPeriod(k, node.tau)) {
        if (!context.outerSyncsAt(k)) await average(k);
        await context.syncBuffers(node.buffers, "base");
      }
      return { loss };
    },
    model: () => x.slice(),
    setModel(value) {
      checkSameLength(x, value, "the new model");
      x = value.slice();
      synced?.set(value);
    },
    buffers: () => [
      { name: "localSgd.x", data: x, momentum: false },
      ...(synced === null ? [] : [{ name: "localSgd.synced", data: synced, momentum: false }]),
    ],
    resetMomentum() {},
  };
}
