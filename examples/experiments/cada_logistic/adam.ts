/**
 * CADA experiment, logistic regression: distributed Adam, every worker uploading every step (AMSGrad without bias correction, the update CADA's server runs).
 *
 * @module
 */
import { adam, allReduce, logistic, mnist, train } from "../../../mod.ts";

export default train(logistic())
  .data(mnist({ batchSize: 32 }))
  .workers(8)
  .optimizer(adam({ lr: 0.002, biasCorrection: false, amsgrad: true }))
  .base(allReduce())
  .steps(600)
  .evalEvery(100);
