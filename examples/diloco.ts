/**
 * DiLoCo (Douillard et al. 2023) on the byte-level transformer and the embedded Moby-Dick text:
 * four workers each take 20 AdamW steps alone, then one all-reduce averages their models and an
 * outer Nesterov step (rate 0.7, momentum 0.9) moves the shared model along the averaged
 * pseudo-gradient. Local SGD's own period equals the outer one, so the outer step is the only
 * communication: one model's worth every 20 steps.
 *
 * @module
 */
import { adamw, cosine, diloco, localSgd, text, train, transformer, warmup } from "../mod.ts";

export default train(transformer({ layers: 2, dModel: 64, heads: 4, context: 64 }))
  .data(text({ batchSize: 16 }))
  .workers(4)
  .optimizer(
    adamw({ lr: warmup({ steps: 20, then: cosine({ lr: 3e-3, minLr: 3e-4 }) }), clipNorm: 1 }),
  )
  .base(localSgd({ tau: 20 }))
  .outer(diloco({ tau: 20, lr: 0.7, momentum: 0.9 }))
  .steps(200)
  .evalEvery(50);
