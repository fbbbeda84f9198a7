/**
 * Language-model demo: local AdamW. The same four workers and model as `all_reduce_adamw.ts`,
 * but each worker takes 16 AdamW steps on its own contiguous part of the text between model
 * averages: 16× fewer synchronisations.
 *
 * @module
 */
import { adamw, cosine, localSgd, text, train, transformer, warmup } from "../../mod.ts";

export default train(transformer({ layers: 2, dModel: 64, heads: 4, context: 64 }))
  .data(text({ batchSize: 16 }))
  .workers(4)
  .optimizer(
    adamw({ lr: warmup({ steps: 20, then: cosine({ lr: 3e-3, minLr: 3e-4 }) }), clipNorm: 1 }),
  )
  .base(localSgd({ tau: 16 }))
  .steps(300)
  .evalEvery(100);
