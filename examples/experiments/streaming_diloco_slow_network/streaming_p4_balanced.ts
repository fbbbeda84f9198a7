/**
 * 8 workers of the byte-level transformer (2 layers, dModel 64, context 64) on the embedded
 * Moby-Dick text, AdamW inside (warm-up into a cosine, clipping at 1), on a 1 Gbit/s network with
 * 50 ms latency and 200 ms of compute per step (virtual clock): Streaming DiLoCo every 20
 * steps, in 4 fragments of about equal size (whole variables dealt largest first to the emptiest
 * fragment) taking turns every 5 steps, float32, no overlap (outer Nesterov, rate 0.7, momentum
 * 0.5).
 *
 * @module
 */
import {
  adamw,
  cosine,
  localSgd,
  network,
  streamingDiloco,
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
  .outer(
    streamingDiloco({
      tau: 20,
      fragments: 4,
      split: "balanced",
      overlap: 0,
      bits: 32,
      momentum: 0.5,
    }),
  )
  .network(network({ bandwidth: "1Gbit", latency: "50ms", computeMs: 200 }))
  .steps(200)
  .evalEvery(20);
