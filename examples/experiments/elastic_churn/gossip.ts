/**
 * Elastic churn experiment, the gossip baseline: the all-reduce row's pipeline with D-PSGD gossip
 * over the static exponential graph (each worker receives from the 6 ranks `i − 2^e`, e = 0 … 5,
 * and weighs them and itself by 1/7) instead of an all-reduce; nobody leaves.
 *
 * @module
 */
import { exponential, gossip, logistic, mnist, network, sgd, train } from "../../../mod.ts";

export default train(logistic())
  .data(mnist({ batchSize: 16 }))
  .workers(64)
  .optimizer(sgd({ lr: 0.1 }))
  .base(gossip(exponential))
  .network(network({ bandwidth: "1Gbit", latency: "1ms", computeMs: 5 }))
  .elastic({ minWorkers: 48 })
  .steps(200)
  .evalEvery(50);
