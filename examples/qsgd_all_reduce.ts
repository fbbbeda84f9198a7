/**
 * All-reduce SGD with 4-bit QSGD gradients (15 levels per sign, one norm per 512 values),
 * gathered and decoded since quantized codes cannot be summed.
 *
 * @module
 */
import { allReduce, mlp, mnist, qsgd, sgd, train } from "../mod.ts";

export default train(mlp({ hidden: [128] }))
  .data(mnist())
  .workers(4)
  .optimizer(sgd({ lr: 0.1 }))
  .base(allReduce())
  .compress(qsgd({ bits: 4 }))
  .steps(300);
