/**
 * 8 workers of the byte-level transformer (2 layers, dModel 64, context 64) on the embedded
 * Moby-Dick text, AdamW inside (warm-up into a cosine, clipping at 1), on a 1 Gbit/s network with
 * 50 ms latency and 200 ms of compute per step (virtual clock): DiLoCo every 20 steps (outer
 * Nesterov, rate 0.7, momentum 0.5), the whole model at once.
 *
 * @module
 */
import {
  adamw,
  cosine,
  diloco,
  localSgd,
  network,
  text,
  train,
  transformer,
  warmup,
} from "../../../mod.ts";

export default train(transformer({ layers: 2, dModel: 64, heads: 4, context: 64 }))
  .data(text({ batchSize: 8 }))
  .workers(8)
  .optimizer(
    adamw({ lr: warmup({ steps: 20, then: cosine({ lr: 3e-3, minLr: 3e-4 }) }), clipNorm: 1 }),
  )
  .base(localSgd({ tau: 20 }))
  .outer(diloco({ tau: 20, momentum: 0.5 }))
  .network(network({ bandwidth: "1Gbit", latency: "50ms", computeMs: 200 }))
  .steps(200)
  .evalEvery(20);
