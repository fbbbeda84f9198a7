/**
 * 256 workers gossiping on an exponential graph over a declared 1 Gbit/s network with 1 ms
 * latency and random stragglers, for the virtual clock: every worker in one thread, nothing
 * sleeps, and the simulated time is the same on every run for a seed.
 *
 * Run: `deno task gossamer run examples/virtual_256.ts --transport memory --clock virtual`
 *
 * @module
 */
import { exponential, gossip, logistic, network, sgd, synthetic, train } from "../mod.ts";

export default train(logistic())
  .data(
    synthetic({
      task: "classification",
      features: 32,
      classes: 4,
      trainSize: 8192,
      testSize: 256,
      heterogeneity: 0.5,
    }),
  )
  .workers(256)
  .optimizer(sgd({ lr: 0.2 }))
  .base(gossip(exponential))
  .network(network({
    bandwidth: "1Gbit",
    latency: "1ms",
    jitter: "0.2ms",
    stragglers: { probability: 0.05, slowdown: 3 },
    computeMs: 5,
  }))
  .steps(100)
  .evalEvery(50);
