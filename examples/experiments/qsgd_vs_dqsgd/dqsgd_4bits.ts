/**
 * QSGD vs DQ-SGD experiment: DQ-SGD at 4 bits on average (2 to 6 per step), an MLP on
 * MNIST over 4 workers.
 *
 * @module
 */
import { allReduce, dqSgd, mlp, mnist, sgd, train } from "../../../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist({ batchSize: 32 }))
  .workers(4)
  .optimizer(sgd({ lr: 0.05, momentum: 0.9 }))
  .base(allReduce())
  .compress(dqSgd({ minBits: 2, maxBits: 6, budgetBits: 4 }))
  .steps(300)
  .evalEvery(30);
