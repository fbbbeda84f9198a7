/**
 * QSGD vs DQ-SGD experiment: DQ-SGD at 8 bits on average (6 to 10 per step), an MLP on
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
  .compress(dqSgd({ minBits: 6, maxBits: 10, budgetBits: 8 }))
  .steps(300)
  .evalEvery(30);
