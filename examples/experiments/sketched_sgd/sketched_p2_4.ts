/**
 * Sketched SGD experiment: count sketches of 5 × 1,000 counters (a twentieth of the model's
 * 101,770 values), momentum 0.9, the top 1,000 coordinates applied per step, p2 = 4.
 *
 * @module
 */
import { allReduce, mlp, mnist, sgd, sketchedSgd, train } from "../../../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist({ batchSize: 32 }))
  .workers(8)
  .optimizer(sgd({ lr: 0.05 }))
  .base(allReduce())
  .compress(sketchedSgd({ k: 1000, rows: 5, cols: 1000, p2: 4, rho: 0.9 }))
  .steps(400)
  .evalEvery(40);
