/**
 * Memory: resident memory of each worker process and the TensorFlow.js tensor count over a
 * long run of 4 workers; both must stay flat after warm-up. Workers run as separate processes
 * so each RSS is one worker's own, with `--expose-gc` so that a full collection runs before each
 * sample: growth then means memory still referenced, not garbage V8 has not collected yet.
 *
 * Run: `deno run -A bench/memory.ts [steps]` (default 2000; part of `deno task bench`).
 *
 * @module
 */

import { allReduce, mlp, mnist, sgd, train } from "../mod.ts";
import { table } from "../report/format.ts";
import { benchRun } from "./_runs.ts";

const steps = Number(Deno.args[0] ?? 2000);
const plan = train(mlp({ hidden: [64] }))
  .data(mnist({ batchSize: 32 }))
  .workers(4)
  .optimizer(sgd({ lr: 0.05 }))
  .base(allReduce())
  .steps(steps)
  .evalEvery(Math.max(1, Math.floor(steps / 4)))
  .compile();
// Worker processes inherit the environment.
Deno.env.set("DENO_V8_FLAGS", "--expose-gc");
const { steps: lines } = await benchRun(plan, { transport: "tcp", launch: "processes" });
const checkpoints = [0, 1, 2, 4, 8, 10].map((tenth) =>
  Math.min(steps - 1, Math.floor(steps * tenth / 10))
);
const rows = checkpoints.map((step) => {
  const at = lines.filter((line) => line.step === step).sort((a, b) => a.worker - b.worker);
  return [
    String(step),
    ...at.map((line) => `${((line.rssBytes ?? NaN) / 2 ** 20).toFixed(1)} MiB`),
    at.map((line) => ((line.heapBytes ?? NaN) / 2 ** 20).toFixed(1)).join("/"),
    at.map((line) => String(line.tensors ?? "?")).join("/"),
  ];
});
console.log(`Memory over ${steps} steps, 4 worker processes, mlp [64] on MNIST, allReduce`);
console.log(
  table(
    ["step", "rss w0", "rss w1", "rss w2", "rss w3", "live heap MiB w0/w1/w2/w3", "tensors"],
    rows,
  ),
);
const warm = Math.floor(steps / 10);
for (let worker = 0; worker < 4; worker++) {
  const own = lines.filter((line) =>
    line.worker === worker && line.step >= warm && line.rssBytes !== undefined
  );
  const first = own[0]!;
  const last = own.at(-1)!;
  const mib = (bytes: number) => `${bytes >= 0 ? "+" : ""}${(bytes / 2 ** 20).toFixed(1)} MiB`;
  const span = last.step - first.step;
  const rss = last.rssBytes! - first.rssBytes!;
  const heap = last.heapBytes! - first.heapBytes!;
  console.log(
    `worker ${worker}, steps ${first.step}→${last.step}: RSS ${mib(rss)} (${
      (rss / span).toFixed(0)
    } B/step), live heap ${mib(heap)} (${
      (heap / span).toFixed(0)
    } B/step), tensors ${first.tensors} → ${last.tensors}`,
  );
}
