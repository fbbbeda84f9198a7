/**
 * CHOCO-SGD (Koloskova, Stich, Jaggi 2019) on MNIST: eight workers on a ring, each sending its
 * two neighbours only the largest 1% of the gap between its model and the public copy they keep
 * of it (top-k without error feedback: the public copy is the memory, so what is not sent now
 * is still in the gap next step). Plain gossip would send the whole 102k-value model to both
 * neighbours; these codes are 1,000 float32 values and 1,000 17-bit indices, about 1.5% of it.
 * `gamma` is the consensus step size: the paper tunes it per compressor and graph (the more
 * aggressive the compression, the smaller it must be), so it has no default.
 *
 * @module
 */
import { chocoGossip, mlp, mnist, ring, sgd, topK, train } from "../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist())
  .workers(8)
  .optimizer(sgd({ lr: 0.1 }))
  .base(chocoGossip(ring, { gamma: 0.2 }))
  .compress(topK({ k: 1000, errorFeedback: false }))
  .steps(300);
