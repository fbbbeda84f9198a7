/**
 * All-reduce SGD sending only the largest 1% of each gradient: top-k with error feedback, so
 * what is not sent now is added to the next gradient and sent later. Codes (1,000 float32
 * values and 1,000 bit-packed indices) are all-gathered and decoded in rank order.
 *
 * @module
 */
import { allReduce, mlp, mnist, sgd, topK, train } from "../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist())
  .workers(4)
  .optimizer(sgd({ lr: 0.1 }))
  .base(allReduce())
  .compress(topK({ k: 1000 }))
  .steps(300);
