/**
 * Time to accuracy on a slow network: all-reduce of 4-bit QSGD gradients.
 * 8 workers of the MNIST MLP [128] on declared 100 Mbit/s links with 1 ms latency and 5 ms of
 * compute per step (about one worker's step on one core of this machine), on the virtual clock.
 *
 * @module
 */
import { allReduce, mlp, mnist, network, qsgd, sgd, train } from "../../../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist({ batchSize: 32 }))
  .workers(8)
  .optimizer(sgd({ lr: 0.05, momentum: 0.9 }))
  .base(allReduce())
  .compress(qsgd({ bits: 4 }))
  .network(network({ bandwidth: "100Mbit", latency: "1ms", computeMs: 5 }))
  .steps(800)
  .evalEvery(20);
