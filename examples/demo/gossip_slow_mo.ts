/**
 * Demo, part 3: gossip on a ring with SlowMo's slow momentum and an exact average every 16
 * steps.
 *
 * @module
 */
import { gossip, mlp, mnist, ring, sgd, slowMo, train } from "../../mod.ts";

export default train(mlp({ hidden: [64] }))
  .data(mnist({ trainSize: 8000, testSize: 2000 }))
  .workers(4)
  .optimizer(sgd({ lr: 0.1 }))
  .base(gossip(ring))
  .outer(slowMo({ beta: 0.6, tau: 16 }))
  .steps(400)
  .evalEvery(100);
