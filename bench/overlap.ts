/**
 * Overlap: how much of the model average Overlap Local-SGD hides behind computation, beside
 * local SGD at the same period, with TCP workers whose communication threads move the ring
 * while the model computes. For every sync point: the time the worker was blocked waiting for
 * the average, and the time the all-reduce itself took. With a compute period longer than the
 * all-reduce, Overlap Local-SGD's blocked time is near zero; local SGD's equals the all-reduce.
 *
 * Run: `deno run -A bench/overlap.ts [steps]` (part of `deno task bench`).
 *
 * @module
 */

import { localSgd, mlp, mnist, overlapLocalSgd, sgd, train } from "../mod.ts";
import { table } from "../report/format.ts";
import { benchRun } from "./_runs.ts";

const steps = Number(Deno.args[0] ?? 120);
const tau = 4;
const rows: string[][] = [];
for (const base of [localSgd({ tau }), overlapLocalSgd({ tau })]) {
  const plan = train(mlp({ hidden: [256] }))
    .data(mnist({ batchSize: 128 }))
    .workers(4)
    .optimizer(sgd({ lr: 0.05 }))
    .base(base)
    .steps(steps)
    .evalEvery(steps)
    .compile();
  const { result, steps: lines } = await benchRun(plan, { transport: "tcp" });
  const sync = lines.filter((line) => (line.step + 1) % tau === 0 && line.step >= tau);
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const blocked = mean(
    sync.map((line) =>
      base.kind === "overlapLocalSgd" ? line.algorithm?.blockedMs as number : line.commMs
    ),
  );
  const allReduce = mean(
    sync.map((line) =>
      base.kind === "overlapLocalSgd" ? line.algorithm?.allReduceMs as number : line.commMs
    ),
  );
  const compute = mean(lines.map((line) => line.computeMs));
  rows.push([
    base.kind,
    compute.toFixed(1),
    (compute * tau).toFixed(1),
    allReduce.toFixed(1),
    blocked.toFixed(2),
    `${(100 * blocked / allReduce).toFixed(1)}%`,
    `${(result.summary.wallTimeMs / 1000).toFixed(1)} s`,
  ]);
}
console.log(
  `Overlap, mlp [256] on MNIST, batch 128, 4 TCP workers, tau ${tau}, ${steps} steps, ${navigator.hardwareConcurrency} cores`,
);
console.log(
  table([
    "base",
    "compute ms/step",
    "compute ms/period",
    "all-reduce ms",
    "blocked ms at sync",
    "blocked / all-reduce",
    "wall",
  ], rows),
);
