/**
 * Elastic churn experiment: gossip on the exponential graph under the same random churn as the
 * all-reduce row (seed 5: 7 of the 64 workers leave); the graph is re-formed over the survivors
 * at each change of membership.
 *
 * @module
 */
import { exponential, gossip, logistic, mnist, network, sgd, train } from "../../../mod.ts";

export default train(logistic())
  .data(mnist({ batchSize: 16 }))
  .workers(64)
  .optimizer(sgd({ lr: 0.1 }))
  .base(gossip(exponential))
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
