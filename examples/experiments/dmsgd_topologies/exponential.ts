/**
 * Topology experiment: dmSgd on exponential over 16 workers, MNIST split by a Dirichlet(0.5)
 * over labels.
 *
 * @module
 */
import { dmSgd, exponential, mlp, mnist, sgd, train } from "../../../mod.ts";

export default train(mlp({ hidden: [64] }))
  .data(mnist({ partition: "dirichlet", alpha: 0.5, batchSize: 32 }))
  .workers(16)
  .optimizer(sgd({ lr: 0.05 }))
  .base(dmSgd(exponential, { beta: 0.9 }))
  .steps(300)
  .evalEvery(30);
