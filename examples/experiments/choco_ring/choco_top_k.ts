/**
 * The gossip baseline of this experiment with CHOCO-SGD: each worker sends its two ring
 * neighbours only the largest 1% (1,206 values) of the gap between its model and the public
 * copy they keep of it, without error feedback (the public copy is the memory), and moves a
 * `gamma` of 0.2 towards the neighbours' public copies. About 1.5% of gossip's bytes.
 *
 * @module
 */
import {
  adamw,
  chocoGossip,
  cosine,
  network,
  ring,
  text,
  topK,
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
  .base(chocoGossip(ring, { gamma: 0.2 }))
  .compress(topK({ k: 1206, errorFeedback: false }))
  .network(network({ bandwidth: "100Mbit", latency: "50ms", computeMs: 200 }))
  .steps(200)
  .evalEvery(20);
