/**
 * Elastic churn experiment: the all-reduce baseline under random churn. Before each step each
 * live worker leaves for good with probability 0.0005 (64 · (1 − 0.9995^200) ≈ 6.2 expected over
 * the run); seed 5 makes 7 of the 64 leave, before steps 30, 43, 57, 97, 116, 126 and 195. The
 * all-reduce group shrinks to the survivors, whose shards only are trained on from then.
 *
 * @module
 */
import { allReduce, logistic, mnist, network, sgd, train } from "../../../mod.ts";

export default train(logistic())
  .data(mnist({ batchSize: 16 }))
  .workers(64)
  .optimizer(sgd({ lr: 0.1 }))
  .base(allReduce())
  .network(
    network({
      bandwidth: "1Gbit",
      latency: "1ms",
      computeMs: 5,
      failures: [{ probability: 0.0005, seed: 5 }],
    }),
  )
  .elastic({ minWorkers: 48 })
  .steps(200)
  .evalEvery(50);
