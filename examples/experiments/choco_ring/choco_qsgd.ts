/**
 * The gossip baseline of this experiment with CHOCO-SGD and 4-bit QSGD codes (15 levels per
 * sign, one norm per 512 values) of the gap to the public copies, `gamma` 0.5: about 16% of
 * gossip's bytes.
 *
 * @module
 */
import {
  adamw,
  chocoGossip,
  cosine,
  network,
  qsgd,
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
  .base(chocoGossip(ring, { gamma: 0.5 }))
  .compress(qsgd({ bits: 4 }))
  .network(network({ bandwidth: "100Mbit", latency: "50ms", computeMs: 200 }))
  .steps(200)
  .evalEvery(20);
