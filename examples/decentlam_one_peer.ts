/**
 * DecentLaM for large batches over the one-peer exponential graph: one message per worker per
 * step, and a product that averages exactly every log2(n) steps. A warm-up keeps the learning
 * rate positive from the first step, as DecentLaM divides by it.
 *
 * @module
 */
import { cosine, decentLaM, mlp, mnist, onePeerExponential, sgd, train, warmup } from "../mod.ts";

export default train(mlp({ hidden: [256] }))
  .data(mnist({ partition: "dirichlet", alpha: 0.3, batchSize: 256 }))
  .workers(8)
  .optimizer(sgd({ lr: warmup({ steps: 20, then: cosine({ lr: 0.2, minLr: 0.01 }) }) }))
  .base(decentLaM(onePeerExponential, { beta: 0.9 }))
  .steps(400);
