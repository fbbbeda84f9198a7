/**
 * CADA experiment, MLP: distributed Adam, every worker uploading every step (AMSGrad without bias correction, the update CADA's server runs).
 *
 * @module
 */
import { adam, allReduce, mlp, mnist, train } from "../../../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist({ batchSize: 32 }))
  .workers(8)
  .optimizer(adam({ lr: 0.001, biasCorrection: false, amsgrad: true }))
  .base(allReduce())
  .steps(600)
  .evalEvery(100);
