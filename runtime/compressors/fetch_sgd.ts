/**
 * FetchSGD (docs/algorithms.md §3.5; Rothchild, Panda, Ullah, Ivkin, Stoica, Braverman,
 * Gonzalez, Arora, "FetchSGD: communication-efficient federated learning with sketching",
 * ICML 2020): the sketch-space variant of Sketched SGD (§3.3). Workers sketch their bare
 * gradients; momentum and error accumulate in the summed sketch, which every worker holds
 * identically, so no worker keeps a `d`-sized accumulator and the sketch's linearity carries
 * momentum and error feedback through the all-reduce.
 *
 * @module
 */

import type { FetchSgdNode } from "../../dsl/plan.ts";
import type { StateBuffer } from "../state.ts";
import { CountSketch } from "./sketched_sgd.ts";
import { topKIndices } from "./top_k.ts";
import type { ChannelOptions, CompressedChannel } from "./types.ts";

/**
 * The compressed channel of FetchSGD, for the `allReduce` base (§3.5). Per step, with `g_i` this
 * worker's gradient (its coupled decay included) and `γ_k` the step's learning rate:
 *
 * 1. all-reduce `S = Σ_i sketch(g_i)` (`rows × cols` float32, phase `compressed`);
 * 2. `S_u = ρ S_u + S`; `S_e = S_e + γ_k S_u` (float64, the same on every worker);
 * 3. `Δ` = the `k` largest estimates of `S_e` in magnitude (median over rows; ties keep the lower
 *    index), valued by the estimates;
 * 4. `S_u` and `S_e` are zeroed, in every row, at the buckets `Δ`'s coordinates hash to;
 * 5. the channel returns the update `Δ / n` (`returnsUpdate`): the base moves `x −= Δ / n`
 *    (`n` counts the members: the survivors of an elastic run).
 *
 * The learning rate enters before the top-k (step 2), unlike Sketched SGD, where the base scales
 * what the channel returns: so the channel is handed `γ_k`. The sketches are float64 because
 * they accumulate over many steps (§0) and cost only `rows × cols` values; the wire stays float32.
 * The second round of exact values the paper allows is not implemented.
 *
 * @param node The `fetchSgd` node.
 * @param options The vector length, the communicator and the plan seed (the shared hashes: the
 *   same count sketch as Sketched SGD's for the same seed).
 * @returns The channel; its buffers are `fetchSgd.momentum` (`S_u`) and `fetchSgd.error`
 *   (`S_e`), and it reports `residualNorm`, `‖S_e‖₂` after the zeroing.
 * @example With a collision-free sketch and `k = d`, one step is plain SGD on the mean gradient
 * ```ts
 * import assert from "node:assert/strict";
 * import { fetchSgd } from "../../dsl/compressors/mod.ts";
 * import { createMemoryCommunicators } from "../comm/memory_transport.ts";
 * import { fetchSgdChannel } from "./fetch_sgd.ts";
 *
 * const node = fetchSgd({ rows: 3, cols: 2, k: 2 });
 * const comms = createMemoryCommunicators(2);
 * const channels = comms.map((comm) => fetchSgdChannel(node, { d: 2, steps: 1, comm, seed: 1 }));
 * const gradients = [Float32Array.of(1, 2), Float32Array.of(3, -6)];
 * const updates = await Promise.all(channels.map((c, i) => c.mean(gradients[i]!, 0, 0.5)));
 * // Δ / n = γ · (g_0 + g_1) / 2 = 0.5 · (2, −2).
 * assert.deepEqual([...updates[0]!], [1, -1]);
 * assert.ok(channels[0]!.returnsUpdate);
 * ```
 */
export function fetchSgdChannel(node: FetchSgdNode, options: ChannelOptions): CompressedChannel {
  const { d, comm, seed } = options;
  const sketch = new CountSketch(node.rows, node.cols, d, seed);
  const size = node.rows * node.cols;
  const momentum = new Float64Array(size);
  const error = new Float64Array(size);
  const buffers: StateBuffer[] = [
    { name: "fetchSgd.momentum", data: momentum, momentum: false },
    { name: "fetchSgd.error", data: error, momentum: false },
  ];
  const k = Math.min(node.k, d);
  return {
    returnsUpdate: true,
    async mean(gradient, _step, lr) {
      if (gradient.length !== d) {
        throw new RangeError(`Cannot compress: ${gradient.length} values, expected ${d}`);
      }
      if (lr === undefined || !Number.isFinite(lr)) {
        throw new RangeError(`fetchSgd needs the step's learning rate, got ${lr}`);
      }
      const table = new Float32Array(size);
      sketch.accumulate(gradient, table);
      const summed = await comm.allReduceSumInPlace(table, "compressed");
      for (let c = 0; c < size; c++) {
        momentum[c] = node.rho * momentum[c]! + summed[c]!;
        error[c] = error[c]! + lr * momentum[c]!;
      }
      const estimates = sketch.estimates64(error);
      const support = topKIndices(estimates, k);
      const update = new Float32Array(d);
      for (let i = 0; i < support.length; i++) {
        const j = support[i]!;
        update[j] = estimates[j]! / comm.members.length;
      }
      sketch.clearBuckets(support, momentum);
      sketch.clearBuckets(support, error);
      return update;
    },
    metrics() {
      let squares = 0;
      for (let c = 0; c < size; c++) squares += error[c]! * error[c]!;
      return { residualNorm: Math.sqrt(squares) };
    },
    buffers: () => buffers,
    // Its momentum is the shared sketch, not a worker's buffer: buffer policies leave it alone.
    resetMomentum() {},
  };
}
