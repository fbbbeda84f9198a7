/**
 * DecentLaM experiment: dmsgd with momentum 0.9 on label-skewed MNIST (two digits per
 * worker) over 8 workers, per-worker batch 32 (learning rate scaled with the batch).
 *
 * @module
 */
import { dmSgd, mlp, mnist, ring, sgd, train } from "../../../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist({ partition: "byLabel", classesPerWorker: 2, batchSize: 32 }))
  .workers(8)
  .optimizer(sgd({ lr: 0.02 }))
  .base(dmSgd(ring, { beta: 0.9 }))
  .steps(200)
  .evalEvery(20);
