/**
 * Compression step cost: what a compressed all-reduce step costs beside an uncompressed one
 * on the same model, data and workers. For each compressor: mean local time per step (the
 * gradient, plus encoding and decoding, which run on the worker's own thread), mean time spent
 * waiting for the network, the whole step, training bytes sent per worker per step (counted at
 * the socket) and the wall time of the run. On 2 cores four workers share the cores with their
 * communication threads, so local times include contention.
 *
 * Run: `deno run -A bench/compression_step.ts [steps]` (part of `deno task bench`).
 *
 * @module
 */

import { allReduce, dqSgd, mlp, mnist, qsgd, sgd, sketchedSgd, topK, train } from "../mod.ts";
import { table } from "../report/format.ts";
import { totalBytes } from "../dsl/traffic.ts";
import { benchRun } from "./_runs.ts";

const steps = Number(Deno.args[0] ?? 100);
const workers = 4;
const compressors = {
  "none": undefined,
  "qsgd 4 bits": qsgd({ bits: 4 }),
  "qsgd 2 bits": qsgd({ bits: 2 }),
  "dqSgd 2–6 bits": dqSgd({ minBits: 2, maxBits: 6, budgetBits: 4 }),
  "topK 1%": topK({ k: 1000 }),
  "sketchedSgd 5×1000": sketchedSgd({ k: 1000, rows: 5, cols: 1000, p2: 4 }),
} as const;

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const rows: string[][] = [];
let baselineStep = 0;
for (const [name, compressor] of Object.entries(compressors)) {
  const builder = train(mlp({ hidden: [128] }))
    .data(mnist({ batchSize: 32 }))
    .workers(workers)
    .optimizer(sgd({ lr: 0.05 }))
    .base(allReduce())
    .steps(steps)
    .evalEvery(steps);
  const plan = (compressor ? builder.compress(compressor) : builder).compile();
  const { result, steps: lines } = await benchRun(plan, { transport: "tcp" });
  // The first steps include warm-up (kernels, connections); measure the rest.
  const measured = lines.filter((line) => line.step >= 5);
  const local = mean(measured.map((line) => line.computeMs));
  const waiting = mean(measured.map((line) => line.commMs));
  if (compressor === undefined) baselineStep = local + waiting;
  rows.push([
    name,
    local.toFixed(2),
    waiting.toFixed(2),
    (local + waiting).toFixed(2),
    `${((local + waiting) / baselineStep).toFixed(2)}×`,
    (mean(measured.map((line) => totalBytes(line.bytesSent))) / 1024).toFixed(1),
    `${(result.summary.wallTimeMs / 1000).toFixed(1)} s`,
  ]);
}
console.log(
  `Compression step cost, mlp [128] on MNIST (101,770 parameters), batch 32, ${workers} TCP workers, ${steps} steps, ${navigator.hardwareConcurrency} cores`,
);
console.log(
  table([
    "compressor",
    "local ms/step (gradient + codec)",
    "waiting ms/step",
    "step ms",
    "step vs none",
    "KiB sent/step",
    "wall",
  ], rows),
);
