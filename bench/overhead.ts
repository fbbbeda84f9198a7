/**
 * Per-step overhead of the whole runtime: one worker running a plan (worker loop, algorithm,
 * communicator, metrics) against a plain TensorFlow.js training loop of the same model, data
 * batches and backend, in the same process. The target is at most 3% slower at batch 32.
 *
 * The plain loop trains the same MLP with `tf.variableGrads` and an in-place SGD update on the
 * very batches the plan's worker sees (`loadWorkerData(plan, 0).batch(k)`). The plan runs with
 * the memory transport in this thread (same process, same engine) and as one thread worker over
 * TCP, the default launch; the plain loop also runs in a Web Worker, which shows what running in
 * a worker thread costs by itself. Each is the best of its rounds, which alternate between the
 * loops.
 *
 * Times per step are the steady state: the second half of the steps (from the workers' own step
 * stamps). A thread worker, or any Web Worker, is a fresh V8 isolate whose JIT warms up over its
 * first few hundred steps, while the main thread's loops run in an isolate already warm from the
 * rounds before: timed from step 20 of 300, a plain loop in a fresh Web Worker was 4–7% slower
 * than on the main thread, and timed after its warm-up, as fast (2.89–2.93 against 2.90–2.99
 * ms/step at batch 32, four 500-step loops in one worker and on the main thread).
 *
 * Run: `deno run -A bench/overhead.ts [steps] [rounds]` (default 1000 steps, the last 500 timed,
 * best of 2 rounds; part of `deno task bench`).
 *
 * @module
 */

import { table } from "../report/format.ts";
import { selectBackend } from "../runtime/backend.ts";
import { benchRun, stepsPerSecond } from "./_runs.ts";
import { plainLoopInWorkerMs, plainLoopMs, planWith } from "./_plain_loop.ts";

const steps = Number(Deno.args[0] ?? 1000);
/** Steps before the timing starts: the first half, so fresh isolates are warm. */
const warmUp = Math.floor(steps / 2);
/** Rounds per loop; each loop's best round counts (rounds of one loop differ by up to ±5% here). */
const rounds = Number(Deno.args[1] ?? 2);
await selectBackend("wasm");

const rows: string[][] = [];
const best = (values: number[]) => Math.min(...values);
for (const batchSize of [32, 128]) {
  const plan = planWith(batchSize, steps);
  const plain: number[] = [];
  const plainInWorker: number[] = [];
  const memory: number[] = [];
  const tcp: number[] = [];
  for (let round = 0; round < rounds; round++) {
    plain.push(await plainLoopMs(batchSize, steps, warmUp));
    plainInWorker.push(await plainLoopInWorkerMs(batchSize, steps, warmUp));
    const { steps: lines } = await benchRun(plan, { transport: "memory", backend: "wasm" });
    memory.push(1000 / stepsPerSecond(lines.filter((line) => line.step >= warmUp)));
    const { steps: tcpLines } = await benchRun(plan, { transport: "tcp", backend: "wasm" });
    tcp.push(1000 / stepsPerSecond(tcpLines.filter((line) => line.step >= warmUp)));
  }
  const reference = best(plain);
  const row = (name: string, ms: number) => [
    String(batchSize),
    name,
    ms.toFixed(3),
    `${(ms / reference).toFixed(3)}×`,
    `${(ms - reference).toFixed(3)}`,
  ];
  rows.push(row("plain TensorFlow.js loop", reference));
  rows.push(row("plain TensorFlow.js loop in a Web Worker", best(plainInWorker)));
  rows.push(row("gossamer plan, memory transport (same thread)", best(memory)));
  rows.push(row("gossamer plan, one thread worker over TCP (default)", best(tcp)));
}
console.log(
  `Per-step overhead, mlp [128] on MNIST, wasm, ${steps} steps, the last ${
    steps - warmUp
  } timed (best of ${rounds} interleaved rounds)`,
);
console.log(table(["batch", "loop", "ms/step", "vs plain", "extra ms"], rows));
