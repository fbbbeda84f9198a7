/**
 * CADA experiment, MLP: CADA2 (compared with the last upload's iterate), c = 1.
 *
 * @module
 */
import { cada, mlp, mnist, sgd, train } from "../../../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist({ batchSize: 32 }))
  .workers(8)
  .optimizer(sgd({ lr: 0.001 }))
  .base(cada({ variant: 2, c: 1 }))
  .steps(600)
  .evalEvery(100);
