/**
 * CADA experiment, logistic regression: CADA1 with a threshold ten times larger, c = 10.
 *
 * @module
 */
import { cada, logistic, mnist, sgd, train } from "../../../mod.ts";

export default train(logistic())
  .data(mnist({ batchSize: 32 }))
  .workers(8)
  .optimizer(sgd({ lr: 0.002 }))
  .base(cada({ variant: 1, c: 10 }))
  .steps(600)
  .evalEvery(100);
