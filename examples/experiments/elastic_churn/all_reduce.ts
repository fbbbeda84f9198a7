/**
 * Elastic churn experiment, the all-reduce baseline: 64 workers of logistic regression on MNIST
 * (batch 16 each), plain SGD, one ring all-reduce of the gradients per step over declared
 * 1 Gbit/s links with 1 ms latency and 5 ms of compute per step (virtual clock); elastic with a
 * floor of 48 workers, but nobody leaves.
 *
 * @module
 */
import { allReduce, logistic, mnist, network, sgd, train } from "../../../mod.ts";

export default train(logistic())
  .data(mnist({ batchSize: 16 }))
  .workers(64)
  .optimizer(sgd({ lr: 0.1 }))
  .base(allReduce())
  .network(network({ bandwidth: "1Gbit", latency: "1ms", computeMs: 5 }))
  .elastic({ minWorkers: 48 })
  .steps(200)
  .evalEvery(50);
