/**
 * Stochastic Gradient Push over the directed exponential graph: each worker pushes to
 * log2(n) peers and evaluates its de-biased model.
 *
 * @module
 */
import { exponential, logistic, mnist, sgd, sgp, train } from "../mod.ts";

export default train(logistic())
  .data(mnist({ partition: "dirichlet", alpha: 1 }))
  .workers(8)
  .optimizer(sgd({ lr: 0.2 }))
  .base(sgp(exponential))
  .steps(300);
