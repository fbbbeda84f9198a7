/**
 * Overlap experiment: overlap local sgd with period 4 (alpha 0.2, the default) on MNIST over 8
 * workers and a slow declared network (100 Mbit/s links, 5 ms latency), 40 ms of compute per
 * step, on the virtual clock.
 *
 * @module
 */
import { mlp, mnist, network, overlapLocalSgd, sgd, train } from "../../../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist({ partition: "dirichlet", alpha: 1, batchSize: 32 }))
  .workers(8)
  .optimizer(sgd({ lr: 0.1, momentum: 0.9 }))
  .base(overlapLocalSgd({ tau: 4 }))
  .network(network({ bandwidth: "100Mbit", latency: "5ms", computeMs: 40 }))
  .steps(400)
  .evalEvery(20);
