/**
 * CADA experiment, MLP: CADA1 (a snapshot refreshed every 50 steps), c = 1.
 *
 * @module
 */
import { cada, mlp, mnist, sgd, train } from "../../../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist({ batchSize: 32 }))
  .workers(8)
  .optimizer(sgd({ lr: 0.001 }))
  .base(cada({ variant: 1, c: 1 }))
  .steps(600)
  .evalEvery(100);
