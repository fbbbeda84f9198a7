/**
 * QSGD vs DQ-SGD experiment: QSGD at 2 bits (2 level bits and a sign per value), an MLP on
 * MNIST over 4 workers.
 *
 * @module
 */
import { allReduce, mlp, mnist, qsgd, sgd, train } from "../../../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist({ batchSize: 32 }))
  .workers(4)
  .optimizer(sgd({ lr: 0.05, momentum: 0.9 }))
  .base(allReduce())
  .compress(qsgd({ bits: 2 }))
  .steps(300)
  .evalEvery(30);
