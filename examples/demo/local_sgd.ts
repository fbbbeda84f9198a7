/**
 * Demo, part 2: local SGD, averaging models every 8 steps: an eighth of all-reduce's traffic.
 *
 * @module
 */
import { localSgd, mlp, mnist, sgd, train } from "../../mod.ts";

export default train(mlp({ hidden: [64] }))
  .data(mnist({ trainSize: 8000, testSize: 2000 }))
  .workers(4)
  .optimizer(sgd({ lr: 0.1 }))
  .base(localSgd({ tau: 8 }))
  .steps(400)
  .evalEvery(100);
