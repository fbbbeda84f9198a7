/**
 * The pipeline from the README: an MLP on non-iid MNIST, eight workers gossiping on a ring,
 * with SlowMo's slow momentum and an exact average every 12 steps.
 *
 * Explain it: `deno task gossamer plan examples/quickstart.ts`
 *
 * @module
 */
import { gossip, mlp, mnist, ring, sgd, slowMo, train } from "../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist({ partition: "dirichlet", alpha: 0.5 }))
  .workers(8)
  .optimizer(sgd({ lr: 0.1 }))
  .base(gossip(ring))
  .outer(slowMo({ beta: 0.7, tau: 12 }))
  .steps(600);
