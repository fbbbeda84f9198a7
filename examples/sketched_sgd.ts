/**
 * Sketched SGD: workers all-reduce 5×5,000 count sketches of their accumulated momentum instead
 * of 101,770 gradient values, and apply the top 1,000 coordinates.
 *
 * @module
 */
import { allReduce, mlp, mnist, sgd, sketchedSgd, train } from "../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist())
  .workers(4)
  .optimizer(sgd({ lr: 0.1 }))
  .base(allReduce())
  .compress(sketchedSgd({ k: 1000, rows: 5, cols: 5000, p2: 4, rho: 0.9 }))
  .steps(300);
