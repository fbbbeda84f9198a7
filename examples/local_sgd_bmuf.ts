/**
 * Local SGD averaging every 4 steps, with BMUF's block momentum every 8 (Chen & Huo 2016).
 * BMUF's block momentum defaults to 1 − 1/n.
 *
 * @module
 */
import { bmuf, localSgd, mlp, mnist, sgd, train } from "../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist({ partition: "byLabel", classesPerWorker: 3 }))
  .workers(4)
  .optimizer(sgd({ lr: 0.05, momentum: 0.9 }))
  .base(localSgd({ tau: 4 }))
  .outer(bmuf({ tau: 8, blockLr: 1 }))
  .steps(400);
