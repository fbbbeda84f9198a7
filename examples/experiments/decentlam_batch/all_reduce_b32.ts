/**
 * DecentLaM experiment: all reduce with momentum 0.9 on label-skewed MNIST (two digits per
 * worker) over 8 workers, per-worker batch 32 (learning rate scaled with the batch).
 *
 * @module
 */
import { allReduce, mlp, mnist, sgd, train } from "../../../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist({ partition: "byLabel", classesPerWorker: 2, batchSize: 32 }))
  .workers(8)
  .optimizer(sgd({ lr: 0.02, momentum: 0.9 }))
  .base(allReduce())
  .steps(200)
  .evalEvery(20);
