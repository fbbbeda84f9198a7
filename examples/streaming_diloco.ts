/**
 * Streaming DiLoCo (Douillard et al. 2025) on the byte-level transformer and the embedded
 * Moby-Dick text: four workers take AdamW steps alone; the model's 28 tensors are dealt into 4
 * fragments of about equal size (`split: "balanced"`: strided fragments would put 61% of GPT-2's
 * values in one, docs/algorithms.md §2.4), and every 5 steps one fragment's 4-bit
 * pseudo-gradients are all-gathered while training goes on for one more step, then merged
 * half-and-half with the new global fragment. Each fragment syncs every 20 steps, so a worker
 * sends about an eighth of DiLoCo's bytes at tau 20 (4 bits instead of 32), and a single sync
 * about a quarter of that (`gossamer plan examples/streaming_diloco.ts` prints both).
 *
 * @module
 */
import {
  adamw,
  cosine,
  localSgd,
  streamingDiloco,
  text,
  train,
  transformer,
  warmup,
} from "../mod.ts";

export default train(transformer({ layers: 2, dModel: 64, heads: 4, context: 64 }))
  .data(text({ batchSize: 16 }))
  .workers(4)
  .optimizer(
    adamw({ lr: warmup({ steps: 20, then: cosine({ lr: 3e-3, minLr: 3e-4 }) }), clipNorm: 1 }),
  )
  .base(localSgd({ tau: 20 }))
  .outer(streamingDiloco({ tau: 20, fragments: 4, split: "balanced", overlap: 1, bits: 4 }))
  .steps(200)
  .evalEvery(50);
