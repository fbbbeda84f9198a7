/**
 * Soak: a long run of many worker processes over TCP with checkpoints, to see that nothing
 * grows: each worker's resident memory and live TensorFlow.js tensors after warm-up, the
 * checkpoints' size and write time, and what a checkpoint costs the workers (the steps right
 * after a checkpoint against the others).
 *
 * Run: `DENO_V8_FLAGS=--expose-gc deno run -A bench/soak.ts [workers] [steps] [every]`
 * (default 16 processes × 2,000 steps, a checkpoint every 200; minutes on 2 cores). With
 * `--expose-gc` the workers collect garbage before each memory sample, so growth is memory still
 * in use; without it, RSS also holds garbage not collected yet.
 *
 * @module
 */

import { allReduce, mlp, mnist, run, sgd, train } from "../mod.ts";
import { formatBytes, table } from "../report/format.ts";
import type { StepLine } from "../runtime/mod.ts";

const workers = Number(Deno.args[0] ?? 16);
const steps = Number(Deno.args[1] ?? 2000);
const every = Number(Deno.args[2] ?? 200);
const plan = train(mlp({ hidden: [64] }))
  .data(mnist({ batchSize: 16 }))
  .workers(workers)
  .optimizer(sgd({ lr: 0.05, momentum: 0.9 }))
  .base(allReduce())
  .steps(steps)
  .evalEvery(steps)
  .compile();
const folder = await Deno.makeTempDir({ prefix: "gossamer_soak_" });
try {
  const start = performance.now();
  const result = await run(plan, {
    out: `${folder}/run`,
    launch: "processes",
    checkpointEvery: every,
  });
  const wallS = (performance.now() - start) / 1000;
  const lines = (await Deno.readTextFile(`${folder}/run/metrics.jsonl`)).trim().split("\n")
    .map((line) => JSON.parse(line)).filter((line) => line.type === "step") as StepLine[];
  const warm = Math.min(every, Math.floor(steps / 4));
  const rows: string[][] = [];
  const growth: number[] = [];
  for (let worker = 0; worker < workers; worker++) {
    const own = lines.filter((line) => line.worker === worker);
    const rss = own.filter((line) => line.rssBytes !== undefined && line.step >= warm);
    const tensors = new Set(own.filter((line) => line.step >= warm).map((line) => line.tensors));
    const first = rss[0]!.rssBytes!;
    const last = rss.at(-1)!.rssBytes!;
    growth.push(last - first);
    if (worker < 4 || worker === workers - 1) {
      rows.push([
        String(worker),
        formatBytes(first),
        formatBytes(last),
        formatBytes(last - first),
        [...tensors].join(", "),
      ]);
    }
  }
  // A step's time is the gap between its line and the previous one of the same worker.
  const gaps = (predicate: (step: number) => boolean) => {
    const values: number[] = [];
    for (let worker = 0; worker < workers; worker++) {
      const own = lines.filter((line) => line.worker === worker);
      for (let i = 1; i < own.length; i++) {
        if (own[i]!.step >= warm && predicate(own[i]!.step)) {
          values.push(own[i]!.elapsedMs - own[i - 1]!.elapsedMs);
        }
      }
    }
    return values.reduce((a, b) => a + b, 0) / values.length;
  };
  const after = gaps((step) => step % every === 0);
  const others = gaps((step) => step % every !== 0);
  const checkpoints = result.summary.checkpoints!;
  console.log(
    `Soak: mlp [64] on MNIST, ${workers} worker processes over TCP, ${steps} steps, a checkpoint every ${every}; ${
      wallS.toFixed(0)
    } s wall, ${navigator.hardwareConcurrency} cores`,
  );
  console.log(
    table(
      ["worker", `RSS at step ${warm}`, "RSS at the end", "growth", "live tensors after warm-up"],
      rows,
    ),
  );
  const trajectory = lines.filter((line) => line.worker === 0 && line.heapBytes !== undefined)
    .filter((line) => line.step % every === 0 || line.step === steps - 1);
  console.log(
    `\nWorker 0 by step (RSS / live JS heap): ${
      trajectory.map((line) =>
        `${line.step}: ${formatBytes(line.rssBytes!)} / ${formatBytes(line.heapBytes!)}`
      ).join(", ")
    }`,
  );
  console.log(
    `RSS growth after warm-up, all workers: mean ${
      formatBytes(growth.reduce((a, b) => a + b, 0) / workers)
    }, largest ${formatBytes(Math.max(...growth))}`,
  );
  console.log(
    `Checkpoints: ${checkpoints.steps.length} kept (steps ${checkpoints.steps.join(", ")}), ${
      formatBytes(checkpoints.bytes)
    } each, ${checkpoints.meanWriteMs.toFixed(1)} ms to write once the states arrived`,
  );
  console.log(
    `A step right after a checkpoint took ${after.toFixed(1)} ms against ${
      others.toFixed(1)
    } ms for the others (the workers' cost of a checkpoint: ${(after - others).toFixed(1)} ms)`,
  );
} finally {
  await Deno.remove(folder, { recursive: true });
}
