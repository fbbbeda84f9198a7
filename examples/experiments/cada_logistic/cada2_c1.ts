/**
 * CADA experiment, logistic regression: CADA2 (compared with the last upload's iterate), c = 1.
 *
 * @module
 */
import { cada, logistic, mnist, sgd, train } from "../../../mod.ts";

export default train(logistic())
  .data(mnist({ batchSize: 32 }))
  .workers(8)
  .optimizer(sgd({ lr: 0.002 }))
  .base(cada({ variant: 2, c: 1 }))
  .steps(600)
  .evalEvery(100);
