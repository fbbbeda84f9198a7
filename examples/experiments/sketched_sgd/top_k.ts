/**
 * Sketched SGD experiment, the comparison: true top-k with error feedback (each worker sends
 * its 1,000 largest accumulated values, all-gathered), momentum 0.9.
 *
 * @module
 */
import { allReduce, mlp, mnist, sgd, topK, train } from "../../../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist({ batchSize: 32 }))
  .workers(8)
  .optimizer(sgd({ lr: 0.05, momentum: 0.9 }))
  .base(allReduce())
  .compress(topK({ k: 1000 }))
  .steps(400)
  .evalEvery(40);
