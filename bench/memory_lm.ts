/**
 * Memory per worker of the demo language model and of one about ten times larger (issue 18):
 * each trains as separate worker processes (so each RSS is one worker's own) with all-reduce and
 * AdamW on the embedded text, `--expose-gc` so that a full collection runs before each sample.
 * Per worker it prints the parameters, resident memory after warm-up (the first sample from step
 * 50 on) and at the end, the live V8 heap, the live tensors, their bytes and the WASM heap
 * (which only grows: the most a step ever held at once), next to what `estimateMemory` expects
 * for the plan, and the load average (the machine is shared; memory does not depend on it, speed
 * does).
 *
 * The validation share is 1 % instead of 10 % so that the final evaluation of the larger model
 * stays short; it changes the data an isolate holds by under a megabyte.
 *
 * An evaluation (of the averaged model, on worker 0) runs every 50 steps, before the samples of
 * steps 50, 100…: its chunks of windows need more memory than a training step, and the WASM heap
 * keeps that high-water mark.
 *
 * Run: `deno run -A bench/memory_lm.ts [steps] [demo|large]` (default 101 steps, samples at
 * steps 0, 50 and 100, both models; part of `deno task bench`).
 *
 * @module
 */

import { adamw, allReduce, text, train, transformer } from "../mod.ts";
import type { Plan } from "../mod.ts";
import { table } from "../report/format.ts";
import { estimateMemory } from "../runtime/memory_estimate.ts";
import { benchRun, type StepLine } from "./_runs.ts";

const steps = Number(Deno.args[0] ?? 101);
/** Only one of the models, when named. */
const only = Deno.args[1];
const MIB = 2 ** 20;
/** The first sampled step counted as warmed up (samples come every 50 steps). */
const WARM = 50;

/**
 * The two models: the demo's (`examples/demo_lm/`, 120,576 parameters), and one with about ten
 * times its parameters (1,288,640).
 */
const MODELS = [
  {
    key: "demo",
    name: "demo L2 D64 H4",
    node: transformer({ layers: 2, dModel: 64, heads: 4, context: 64 }),
    workers: 4,
  },
  // Two workers: on a two-core machine four would make the run four times longer.
  {
    key: "large",
    name: "10× L4 D160 H4",
    node: transformer({ layers: 4, dModel: 160, heads: 4, context: 64 }),
    workers: 2,
  },
];

/** The plan of one model. */
function planOf(node: (typeof MODELS)[number]["node"], workers: number): Plan {
  return train(node)
    .data(text({ batchSize: 16, validation: 0.01 }))
    .workers(workers)
    .optimizer(adamw({ lr: 1e-3 }))
    .base(allReduce())
    .steps(steps)
    .evalEvery(WARM)
    .compile();
}

const mib = (bytes: number | undefined) => bytes === undefined ? "–" : (bytes / MIB).toFixed(1);

// Worker processes inherit the environment.
Deno.env.set("DENO_V8_FLAGS", "--expose-gc");
const rows: string[][] = [];
const loads: string[] = [];
/** Per model and worker, the RSS at every sample: where it levels off. */
const trajectories: string[] = [];
for (const { key, name, node, workers } of MODELS) {
  if (only !== undefined && only !== key) continue;
  const plan = planOf(node, workers);
  const estimate = estimateMemory(plan);
  const started = performance.now();
  const { steps: lines } = await benchRun(plan, { transport: "tcp", launch: "processes" });
  const seconds = (performance.now() - started) / 1000;
  loads.push(
    `${name}: ${workers} workers, ${seconds.toFixed(0)} s for ${steps} steps, load average ${
      Deno.loadavg().map((load) => load.toFixed(2)).join(" ")
    } at the end`,
  );
  for (let worker = 0; worker < workers; worker++) {
    const sampled = lines.filter((line: StepLine) =>
      line.worker === worker && line.rssBytes !== undefined
    );
    trajectories.push(
      `${name} w${worker}: ${
        sampled.map((line) => `${line.step}: ${mib(line.rssBytes)}`).join(", ")
      }`,
    );
    const warm = sampled.find((line) => line.step >= WARM) ?? sampled.at(-1)!;
    const last = sampled.at(-1)!;
    rows.push([
      name,
      String(worker),
      estimate.parameters!.toLocaleString("en-US"),
      `${mib(warm.rssBytes)} @${warm.step}`,
      `${mib(last.rssBytes)} @${last.step}`,
      `${mib(warm.heapBytes)} → ${mib(last.heapBytes)}`,
      `${warm.tensors} → ${last.tensors}`,
      mib(last.tensorBytes),
      `${mib(warm.wasmBytes)} → ${mib(last.wasmBytes)}`,
      `${mib(estimate.perWorkerBytes)} (${mib(estimate.activationBytes)})`,
    ]);
  }
}
console.log(
  `Memory per worker process (MiB), transformer on text (batch 16 × 64), allReduce + adamw, ${steps} steps; estimate: estimateMemory per worker (of it activations)`,
);
console.log(
  table(
    [
      "model",
      "worker",
      "parameters",
      "RSS warm",
      "RSS end",
      "V8 heap",
      "tensors",
      "tensor data",
      "WASM heap",
      "estimate (activ.)",
    ],
    rows,
  ),
);
console.log("RSS (MiB) at every sampled step:");
for (const line of trajectories) console.log(line);
for (const line of loads) console.log(line);
