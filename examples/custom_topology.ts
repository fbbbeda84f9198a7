/**
 * Gossip over a shared topology preset file, with DmSGD momentum: the preset's weights travel
 * inside the plan, so every worker mixes with exactly the same matrix (and a plan file runs without
 * the preset). The path is relative to this file, as an import is (docs/presets.md).
 *
 * @module
 */
import { dmSgd, fromFile, mlp, mnist, sgd, train } from "../mod.ts";

export default train(mlp({ hidden: [64] }))
  .data(mnist({ partition: "dirichlet", alpha: 0.5 }))
  .workers(6)
  .optimizer(sgd({ lr: 0.05 }))
  .base(dmSgd(fromFile("./presets/two_cliques.json"), { beta: 0.9 }))
  .steps(300);
