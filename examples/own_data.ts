/**
 * Your own data: three clusters of points in a CSV file (`x1,x2,label`, 300 rows), 60 of them
 * held out for testing, dealt to four workers with one class each. `tensors()` reads `.npz`,
 * `.safetensors` and `.npy` files the same way (see "Your own data" in docs/guide.md).
 *
 * @module
 */
import { allReduce, mlp, sgd, tensors, train } from "../mod.ts";

export default train(mlp({ hidden: [16] }))
  .data(tensors({
    train: new URL("./data/blobs.csv", import.meta.url),
    testSize: 60,
    partition: "byLabel",
    classesPerWorker: 1,
    batchSize: 16,
  }))
  .workers(4)
  .optimizer(sgd({ lr: 0.1, momentum: 0.9 }))
  .base(allReduce())
  .steps(100)
  .evalEvery(20);
