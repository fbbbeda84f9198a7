/**
 * SparseLoCo (Sarfi et al. 2025) on the byte-level transformer and the embedded Moby-Dick text:
 * four workers each take 20 AdamW steps alone; then each folds its pseudo-gradient (the shared
 * model minus its own) into an error-feedback accumulator (decay 0.95), sends only the 64 largest
 * entries of every chunk of 4096 coordinates (1.6%), each quantized to 2 bits with 12-bit
 * indices, and keeps the rest for later. The codes are all-gathered, their average moves the
 * shared model, and every worker restarts from it. The model has 120,576 parameters: a code is
 * 3,480 bytes (30 chunk scales, 1,920 indices and levels), so a worker sends 10.2 KiB per sync
 * where `examples/diloco.ts`'s all-reduce sends 706.5 KiB (`gossamer plan` shows both).
 *
 * @module
 */
import { adamw, cosine, localSgd, sparseLoco, text, train, transformer, warmup } from "../mod.ts";

export default train(transformer({ layers: 2, dModel: 64, heads: 4, context: 64 }))
  .data(text({ batchSize: 16 }))
  .workers(4)
  .optimizer(
    adamw({ lr: warmup({ steps: 20, then: cosine({ lr: 3e-3, minLr: 3e-4 }) }), clipNorm: 1 }),
  )
  .base(localSgd({ tau: 20 }))
  .outer(sparseLoco({ tau: 20, k: 64, chunk: 4096, bits: 2, beta: 0.95, lr: 1 }))
  .steps(200)
  .evalEvery(50);
