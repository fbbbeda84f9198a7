/**
 * Sketched SGD experiment, the reference: uncompressed all-reduce SGD with momentum 0.9, an MLP
 * on MNIST over 8 workers.
 *
 * @module
 */
import { allReduce, mlp, mnist, sgd, train } from "../../../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist({ batchSize: 32 }))
  .workers(8)
  .optimizer(sgd({ lr: 0.05, momentum: 0.9 }))
  .base(allReduce())
  .steps(400)
  .evalEvery(40);
