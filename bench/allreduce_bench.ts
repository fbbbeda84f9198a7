/**
 * All-reduce bus bandwidth over the TCP transport, each rank in its own Web Worker, beside the
 * raw single-stream TCP loopback throughput between two workers measured in the same run.
 *
 * Bus bandwidth follows nccl-tests: `algbw = bytes / time`, `busbw = algbw · 2(n−1)/n`, where
 * `bytes` is the size of the vector being reduced and `time` the median over iterations of the
 * slowest rank's all-reduce time. A ring all-reduce moves `2(n−1)/n · bytes` per rank, so
 * busbw is comparable with the raw throughput of one link; the table prints the ratio.
 *
 * Run: `deno run -A bench/allreduce_bench.ts [--mib 64] [--iterations 5] [--ranks 2,4]
 * [--segment-kib 256]`. Under `deno bench` (`deno task bench`) the file only registers a small
 * in-thread benchmark of the collective code over the memory transport.
 *
 * @module
 */

import type { FromWorker, ToWorker } from "./_allreduce_worker.ts";
import { createMemoryTransports } from "../runtime/comm/memory_transport.ts";
import { createCommunicator } from "../runtime/comm/communicator.ts";

const MIB = 1024 * 1024;

/** Benchmark settings from the command line. */
interface Settings {
  mib: number;
  iterations: number;
  segmentKib: number;
  ranks: number[];
}

function parseSettings(args: readonly string[]): Settings {
  const settings: Settings = { mib: 64, iterations: 5, ranks: [2, 4], segmentKib: 256 };
  for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1] ?? "";
    if (args[i] === "--mib") settings.mib = Number(value);
    else if (args[i] === "--iterations") settings.iterations = Number(value);
    else if (args[i] === "--ranks") settings.ranks = value.split(",").map(Number);
    else if (args[i] === "--segment-kib") settings.segmentKib = Number(value);
    else {throw new Error(
        `Unknown option "${args[i]}": expected --mib, --iterations, --ranks or --segment-kib`,
      );}
  }
  return settings;
}

/** A worker with a queue of the messages it posted. */
class BenchWorker {
  readonly #worker = new Worker(new URL("./_allreduce_worker.ts", import.meta.url), {
    type: "module",
  });
  readonly #inbox: FromWorker[] = [];
  #wake: () => void = () => {};

  constructor() {
    this.#worker.onmessage = (event: MessageEvent<FromWorker>) => {
      this.#inbox.push(event.data);
      this.#wake();
    };
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#inbox.push({ type: "failed", message: event.message });
      this.#wake();
    };
  }

  send(message: ToWorker): void {
    this.#worker.postMessage(message);
  }

  async next<T extends FromWorker["type"]>(type: T): Promise<Extract<FromWorker, { type: T }>> {
    while (this.#inbox.length === 0) await new Promise<void>((wake) => this.#wake = wake);
    const message = this.#inbox.shift()!;
    if (message.type === "failed") throw new Error(`A benchmark worker failed: ${message.message}`);
    if (message.type !== type) throw new Error(`Expected "${type}", got "${message.type}"`);
    return message as Extract<FromWorker, { type: T }>;
  }

  terminate(): void {
    this.#worker.terminate();
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median seconds of the slowest rank per iteration. */
async function allReduceSeconds(
  n: number,
  bytes: number,
  iterations: number,
  inPlace: boolean,
  segmentBytes: number,
): Promise<number> {
  const workers = Array.from({ length: n }, () => new BenchWorker());
  try {
    const floats = bytes / 4;
    workers.forEach((w, rank) =>
      w.send({ type: "allReduce", inPlace, segmentBytes, rank, size: n, floats, iterations })
    );
    const addresses = await Promise.all(
      workers.map(async (w) => (await w.next("listening")).address),
    );
    for (const w of workers) w.send({ type: "addresses", addresses });
    const done = await Promise.all(workers.map((w) => w.next("allReduceDone")));
    const expected = n * (n + 1) / 2;
    if (done.some((d) => d.check !== expected)) throw new Error("The all-reduce result is wrong");
    const slowest = Array.from(
      { length: iterations },
      (_, i) => Math.max(...done.map((d) => d.ms[i]!)),
    );
    return median(slowest) / 1000;
  } finally {
    for (const w of workers) w.terminate();
  }
}

/** Median seconds to stream `bytes` from one worker to another over one TCP connection. */
async function rawSeconds(bytes: number, iterations: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const server = new BenchWorker();
    const client = new BenchWorker();
    try {
      server.send({ type: "rawServer", bytes });
      const { address } = await server.next("listening");
      client.send({ type: "rawClient", address, bytes, writeBytes: 4 * MIB });
      times.push((await client.next("rawDone")).ms / 1000);
    } finally {
      server.terminate();
      client.terminate();
    }
  }
  return median(times);
}

const gbps = (bytesPerSecond: number) => (bytesPerSecond / 1e9).toFixed(2);

/** Median ms to allocate and first touch a buffer of `bytes` (page faults included). */
function firstTouchMs(bytes: number): number {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    new Float32Array(bytes / 4).fill(1);
    times.push(performance.now() - start);
  }
  return median(times);
}

if (import.meta.main) {
  const settings = parseSettings(Deno.args);
  const bytes = settings.mib * MIB;
  const raw = bytes / await rawSeconds(bytes, settings.iterations);
  console.log(
    `All-reduce of ${settings.mib} MiB float32 over TCP on 127.0.0.1, one Web Worker per rank, ` +
      `median of ${settings.iterations} iterations (GB/s = 1e9 bytes/s), ` +
      `${navigator.hardwareConcurrency} CPUs, load average ${Deno.loadavg()[0]?.toFixed(1)}`,
  );
  console.log(`raw single-stream TCP loopback between two workers: ${gbps(raw)} GB/s`);
  console.log(
    `allocating and first touching ${settings.mib} MiB here: ${
      firstTouchMs(bytes).toFixed(1)
    } ms\n`,
  );
  console.log("| ranks | result buffer | time (ms) | algbw (GB/s) | busbw (GB/s) | busbw / raw |");
  console.log("| ----: | ------------- | --------: | -----------: | -----------: | ----------: |");
  for (const n of settings.ranks) {
    for (const inPlace of [true, false]) {
      const seconds = await allReduceSeconds(
        n,
        bytes,
        settings.iterations,
        inPlace,
        settings.segmentKib * 1024,
      );
      const algbw = bytes / seconds;
      const busbw = algbw * 2 * (n - 1) / n;
      const mode = inPlace ? "in place" : "new per call";
      console.log(
        `| ${n} | ${mode} | ${(seconds * 1000).toFixed(1)} | ${gbps(algbw)} | ${gbps(busbw)} | ${
          (100 * busbw / raw).toFixed(0)
        }% |`,
      );
    }
  }
}

if (!import.meta.main) {
  const n = 4;
  const transports = createMemoryTransports(n);
  const comms = transports.map((transport) => createCommunicator(transport));
  const data = comms.map(() => new Float32Array(1 << 20).fill(1));
  Deno.bench("in-place ring all-reduce of 4 MiB, 4 ranks, memory transport", async () => {
    await Promise.all(comms.map((comm) => comm.allReduceSumInPlace(data[comm.rank]!, "base")));
  });
}
