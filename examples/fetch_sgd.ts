/**
 * FetchSGD: workers all-reduce 5×5,000 count sketches of their gradients instead of 101,770
 * gradient values; momentum and error live in the summed sketch (the same on every worker), and
 * the top 1,000 coordinates of the error sketch are applied each step.
 *
 * @module
 */
import { allReduce, fetchSgd, mlp, mnist, sgd, train } from "../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist())
  .workers(4)
  .optimizer(sgd({ lr: 0.1 }))
  .base(allReduce())
  .compress(fetchSgd({ k: 1000, rows: 5, cols: 5000, rho: 0.9 }))
  .steps(300);
