/**
 * DQ-SGD: the bit width changes per step between 2 and 8 bits, averaging 3 bits per value.
 *
 * @module
 */
import { allReduce, dqSgd, mlp, mnist, sgd, train } from "../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist())
  .workers(4)
  .optimizer(sgd({ lr: 0.1 }))
  .base(allReduce())
  .compress(dqSgd({ minBits: 2, maxBits: 8, budgetBits: 3 }))
  .steps(300);
