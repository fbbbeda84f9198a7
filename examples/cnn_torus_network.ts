/**
 * A LeNet-style CNN gossiping on a 4×4 torus over an emulated 100 Mbit/s network with 2 ms
 * latency, where rank 3 is a straggler.
 *
 * @module
 */
import { cnn, gossip, mnist, network, sgd, torus, train } from "../mod.ts";

export default train(cnn())
  .data(mnist({ partition: "iid", batchSize: 64 }))
  .workers(16)
  .optimizer(sgd({ lr: 0.05 }))
  .base(gossip(torus({ rows: 4, cols: 4 })))
  .network(network({
    bandwidth: "100Mbit",
    latency: "2ms",
    jitter: "0.5ms",
    stragglers: { ranks: [3], slowdown: 2 },
  }))
  .steps(200);
