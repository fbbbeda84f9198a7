/**
 * Language-model demo: all-reduce AdamW. Four workers train a two-layer byte-level transformer
 * on the embedded Moby-Dick text, averaging gradients every step.
 *
 * @module
 */
import { adamw, allReduce, cosine, text, train, transformer, warmup } from "../../mod.ts";

export default train(transformer({ layers: 2, dModel: 64, heads: 4, context: 64 }))
  .data(text({ batchSize: 16 }))
  .workers(4)
  .optimizer(
    adamw({ lr: warmup({ steps: 20, then: cosine({ lr: 3e-3, minLr: 3e-4 }) }), clipNorm: 1 }),
  )
  .base(allReduce())
  .steps(300)
  .evalEvery(100);
