/**
 * CADA: distributed Adam where a worker uploads its gradient change only when it is larger
 * than a threshold built from the last 10 model changes.
 *
 * @module
 */
import { cada, logistic, mnist, sgd, train } from "../mod.ts";

export default train(logistic())
  .data(mnist({ partition: "dirichlet", alpha: 0.5 }))
  .workers(4)
  .optimizer(sgd({ lr: 0.005 }))
  .base(cada({ variant: 2, c: 0.6, dMax: 10, maxDelay: 50 }))
  .steps(300);
