/**
 * The deterministic test problem: four workers, each with its own 3×3 least-squares shard and
 * full-batch gradients, gossiping on a ring with SlowMo. Two runs with the same seed give
 * identical parameters.
 *
 * @module
 */
import { gossip, leastSquares, linear, ring, sgd, slowMo, train } from "../mod.ts";

export default train(linear({ dim: 3 }))
  .data(leastSquares({ file: new URL("./data/least_squares_4.json", import.meta.url) }))
  .workers(4)
  .optimizer(sgd({ lr: 0.05 }))
  .base(gossip(ring))
  .outer(slowMo({ beta: 0.5, tau: 5 }))
  .steps(50)
  .evalEvery(10);
