/**
 * Overlap Local-SGD: the anchor model's all-reduce runs while workers keep computing, and
 * every 6 steps each worker is pulled 60% of the way to the anchor.
 *
 * @module
 */
import { mlp, mnist, overlapLocalSgd, sgd, train } from "../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist())
  .workers(4)
  .optimizer(sgd({ lr: 0.1 }))
  .base(overlapLocalSgd({ tau: 6, alpha: 0.6 }))
  .steps(360);
