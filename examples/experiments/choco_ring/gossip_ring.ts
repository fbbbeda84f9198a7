/**
 * 8 workers of the byte-level transformer (2 layers, dModel 64, context 64: 120,576 parameters)
 * on the embedded Moby-Dick text, AdamW inside (warm-up into a cosine, clipping at 1), on a ring
 * over a 100 Mbit/s network with 50 ms latency and 200 ms of compute per step (virtual clock):
 * plain gossip, every worker's whole model to both neighbours every step, the baseline.
 *
 * @module
 */
import {
  adamw,
  cosine,
  gossip,
  network,
  ring,
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
  .base(gossip(ring))
  .network(network({ bandwidth: "100Mbit", latency: "50ms", computeMs: 200 }))
  .steps(200)
  .evalEvery(20);
