/**
 * The baseline every other pipeline is compared with: synchronous data-parallel SGD, gradients
 * averaged by ring all-reduce every step.
 *
 * @module
 */
import { allReduce, mlp, mnist, sgd, train } from "../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist())
  .workers(4)
  .optimizer(sgd({ lr: 0.1, momentum: 0.9 }))
  .base(allReduce())
  .steps(300);
