/**
 * Scaling: steps per second of 1, 2 and 4 TCP workers (Web Workers) on an MLP/MNIST plan with
 * all-reduce SGD, measured from the workers' own step timestamps (start-up excluded).
 *
 * Run: `deno run -A bench/scaling.ts` (part of `deno task bench`).
 *
 * @module
 */

import { allReduce, mlp, mnist, sgd, train } from "../mod.ts";
import { table } from "../report/format.ts";
import { benchRun, stepsPerSecond } from "./_runs.ts";

const steps = Number(Deno.args[0] ?? 200);
const rows: string[][] = [];
let single = 0;
for (const workers of [1, 2, 4]) {
  const plan = train(mlp({ hidden: [128] }))
    .data(mnist({ batchSize: 32 }))
    .workers(workers)
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .steps(steps)
    .evalEvery(steps)
    .compile();
  const { result, steps: lines } = await benchRun(plan, { transport: "tcp" });
  const rate = stepsPerSecond(lines);
  if (workers === 1) single = rate;
  const compute = lines.reduce((s, l) => s + l.computeMs, 0) / lines.length;
  const comm = lines.reduce((s, l) => s + l.commMs, 0) / lines.length;
  rows.push([
    String(workers),
    rate.toFixed(1),
    (rate * workers).toFixed(1),
    `${(rate * workers / single).toFixed(2)}×`,
    compute.toFixed(2),
    comm.toFixed(2),
    result.summary.backend ?? "?",
  ]);
}
console.log(
  `Scaling, mlp [128] on MNIST, batch 32 per worker, allReduce, ${steps} steps, ${navigator.hardwareConcurrency} cores`,
);
console.log(
  table(
    [
      "workers",
      "steps/s",
      "worker-steps/s",
      "throughput vs 1",
      "compute ms/step",
      "comm ms/step",
      "backend",
    ],
    rows,
  ),
);
