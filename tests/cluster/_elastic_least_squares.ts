/**
 * An elastic plan for the launcher tests: all-reduce on the four-shard least-squares problem,
 * `.elastic({ minWorkers: 3 })` (workers may rejoin), slowed by a 4 ms latency so that a worker
 * can be killed in the middle of the run.
 *
 * @module
 */
import { allReduce, leastSquares, linear, network, sgd, train } from "../../mod.ts";

export default train(linear({ dim: 3, init: "random" }))
  .data(
    leastSquares({ file: new URL("../../examples/data/least_squares_4.json", import.meta.url) }),
  )
  .workers(4)
  .optimizer(sgd({ lr: 0.05 }))
  .base(allReduce())
  .steps(500)
  .evalEvery(10)
  .seed(11)
  .elastic({ minWorkers: 3 })
  .network(network({ latency: "4ms" }));
