/**
 * Demo, part 1: synchronous all-reduce SGD, the reference every other algorithm is measured
 * against.
 *
 * @module
 */
import { allReduce, mlp, mnist, sgd, train } from "../../mod.ts";

export default train(mlp({ hidden: [64] }))
  .data(mnist({ trainSize: 8000, testSize: 2000 }))
  .workers(4)
  .optimizer(sgd({ lr: 0.1 }))
  .base(allReduce())
  .steps(400)
  .evalEvery(100);
