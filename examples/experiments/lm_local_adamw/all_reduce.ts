/**
 * 8 workers of a 2-layer byte-level transformer (dModel 64, context 64) on the embedded
 * Moby-Dick text, each on its own contiguous eighth, with AdamW (warm-up into a cosine, clipping
 * at 1); the models are averaged every step.
 *
 * @module
 */
import { adamw, allReduce, cosine, text, train, transformer, warmup } from "../../../mod.ts";

export default train(transformer({ layers: 2, dModel: 64, heads: 4, context: 64 }))
  .data(text({ batchSize: 16 }))
  .workers(8)
  .optimizer(
    adamw({ lr: warmup({ steps: 40, then: cosine({ lr: 3e-3, minLr: 3e-4 }) }), clipNorm: 1 }),
  )
  .base(allReduce())
  .steps(600)
  .evalEvery(100);
