/**
 * A byte-level GPT-2-style transformer on the embedded Moby-Dick text (MODELS.md): four
 * workers, AdamW with a warm-up into a cosine and gradient clipping, averaging the models every
 * 8 steps. Evaluation lines carry bits per byte; the run folder's `model.safetensors` uses
 * Hugging Face GPT-2 names, and `sample.txt` holds text the final model wrote.
 *
 * @module
 */
import { adamw, cosine, localSgd, text, train, transformer, warmup } from "../mod.ts";

export default train(transformer({ layers: 2, dModel: 64, heads: 4, context: 64 }))
  .data(text({ batchSize: 16 }))
  .workers(4)
  .optimizer(
    adamw({ lr: warmup({ steps: 20, then: cosine({ lr: 3e-3, minLr: 3e-4 }) }), clipNorm: 1 }),
  )
  .base(localSgd({ tau: 8 }))
  .steps(200)
  .evalEvery(50);
