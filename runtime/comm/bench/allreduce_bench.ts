/**
 * The all-reduce benchmark behind `gossamer bench allreduce`, in the manner of nccl-tests'
 * `all_reduce_perf`: for every world size and vector size, the time of one all-reduce (the
 * median over iterations of the slowest rank), its algorithm bandwidth `algbw = bytes / time`
 * and bus bandwidth `busbw = algbw · 2(n−1)/n`, which a ring makes comparable with the
 * bandwidth of one link; every result is checked against its closed form. Beside it, the raw
 * throughput of one TCP stream between two ranks of the same kind, measured in the same run.
 *
 * Ranks are Web Workers of this process (`threads`, the default launch of `gossamer run`, which
 * reduces through shared memory unless told not to) or Deno processes (`processes`, over TCP),
 * each running `bench_rank.ts`.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { DEFAULT_SEGMENT_BYTES } from "../communicator.ts";
import { createSharedArena, DEFAULT_SLOT_FLOATS } from "../shared_reduce.ts";
import type { FromRank, SizeRun, ToRank } from "./bench_rank.ts";
import { lines, Queue } from "./_channel.ts";
import { type KernelRequest, selectKernels } from "../../kernels/vector_kernels.ts";

/** How ranks are started. */
export type BenchLaunch = "threads" | "processes";
/** The way the all-reduce went. */
export type BenchPath = "shared memory" | "tcp";

/** Options of {@linkcode benchAllReduce}. */
export interface AllReduceBenchOptions {
  /** Vector sizes in bytes, multiples of 4. */
  readonly sizes: readonly number[];
  /** World sizes. */
  readonly ranks: readonly number[];
  readonly launches: readonly BenchLaunch[];
  /** Thread ranks reduce through shared memory (default true); processes always use TCP. */
  readonly sharedMemory?: boolean;
  /** The fewest timed iterations per size (small sizes get more, up to 200; default 5). */
  readonly iterations?: number;
  /** Bytes per ring message (default: the communicator's). */
  readonly segmentBytes?: number;
  /** Bytes of the raw TCP stream (0: skip; default the largest size, at least 64 MiB). */
  readonly rawBytes?: number;
  /** The vector kernels the ranks reduce with (default: each rank's `auto` choice). */
  readonly kernels?: KernelRequest;
  /** Called with each result as soon as it is measured. */
  readonly onResult?: (result: AllReduceResult) => void;
  /** Called with each raw stream's result as soon as it is measured. */
  readonly onRawTcp?: (result: RawTcpResult) => void;
}

/** One measured all-reduce size. */
export interface AllReduceResult {
  readonly bytes: number;
  readonly floats: number;
  readonly ranks: number;
  readonly launch: BenchLaunch;
  readonly path: BenchPath;
  readonly iterations: number;
  /** Median over iterations of the slowest rank's time, seconds. */
  readonly seconds: number;
  /** Bytes per second: `bytes / seconds`. */
  readonly algbw: number;
  /** Bytes per second: `algbw · 2(n−1)/n`. */
  readonly busbw: number;
  /**
   * CPU seconds per all-reduce, all ranks together (user and system time of their processes
   * while they reduced): what the collective costs a machine, whatever else runs on it.
   */
  readonly cpuSeconds: number;
  /** The vector kernels rank 0 reduced with: `wasm-simd` or `js`. */
  readonly kernels: string;
  /** Every element of every result equal to its closed form. */
  readonly correct: boolean;
  /** The first wrong element, when not correct. */
  readonly wrong?: string;
}

/** The raw TCP stream between two ranks. */
export interface RawTcpResult {
  readonly launch: BenchLaunch;
  readonly bytes: number;
  /** Median seconds over three streams. */
  readonly seconds: number;
  readonly bytesPerSecond: number;
}

/** Everything one benchmark run measured. */
export interface AllReduceBenchReport {
  readonly results: readonly AllReduceResult[];
  readonly rawTcp: readonly RawTcpResult[];
}

/**
 * Timed iterations for a size: at least `minimum`, more for small vectors (whose times are
 * short and noisy) so that each size moves about 256 MiB, at most 200.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { iterationsFor } from "./allreduce_bench.ts";
 * assert.equal(iterationsFor(64 * 2 ** 20, 5), 5);
 * assert.equal(iterationsFor(8, 5), 200);
 * assert.equal(iterationsFor(16 * 2 ** 20, 5), 16);
 * ```
 */
export function iterationsFor(bytes: number, minimum: number): number {
  return Math.max(minimum, Math.min(200, Math.floor(256 * 2 ** 20 / bytes)));
}

/** Bus bandwidth from algorithm bandwidth (nccl-tests): `algbw · 2(n−1)/n`. */
export function busBandwidth(algbw: number, ranks: number): number {
  return algbw * 2 * (ranks - 1) / ranks;
}

/** The median of non-empty values. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A started rank: messages to it and from it, in order. */
interface RankHost {
  send(message: ToRank): void;
  /** The next message; a "failed" one, or a rank that ended, throws with the rank named. */
  next<T extends FromRank["type"]>(type: T): Promise<Extract<FromRank, { type: T }>>;
  close(): Promise<void>;
}

/** Queues a rank's messages and hands them out in order. */
class Outbox {
  readonly #queue = new Queue<FromRank>();
  constructor(readonly name: string) {}

  push(message: FromRank): void {
    this.#queue.push(message);
  }

  async next<T extends FromRank["type"]>(type: T): Promise<Extract<FromRank, { type: T }>> {
    const message = await this.#queue.next();
    if (message.type === "failed") throw new Error(`${this.name} failed: ${message.message}`);
    if (message.type !== type) {
      throw new Error(`${this.name} sent "${message.type}" where "${type}" was expected`);
    }
    return message as Extract<FromRank, { type: T }>;
  }
}

const ENTRY = new URL("./bench_rank.ts", import.meta.url);

function startThread(name: string): RankHost {
  const outbox = new Outbox(name);
  const worker = new Worker(ENTRY, { type: "module" });
  worker.onmessage = (event: MessageEvent<FromRank>) => outbox.push(event.data);
  worker.onerror = (event) => {
    event.preventDefault();
    outbox.push({ type: "failed", message: event.message });
  };
  return {
    send: (message) => worker.postMessage(message),
    next: (type) => outbox.next(type),
    close: () => Promise.resolve(worker.terminate()),
  };
}

function startProcess(name: string): RankHost {
  const outbox = new Outbox(name);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", fileURLToPath(ENTRY)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  let stderr = "";
  const readStderr = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      stderr = (stderr + chunk).slice(-2000);
    }
  })();
  (async () => {
    for await (const line of lines(child.stdout)) {
      try {
        outbox.push(JSON.parse(line) as FromRank);
      } catch {
        outbox.push({ type: "failed", message: `it printed "${line.slice(0, 200)}"` });
      }
    }
    const status = await child.status;
    await readStderr;
    outbox.push({
      type: "failed",
      message: `its process ended (exit code ${status.code})${stderr ? `: ${stderr.trim()}` : ""}`,
    });
  })();
  return {
    // A rank that ended cannot take the message; its end is reported through the outbox.
    send: (message) =>
      void writer.write(encoder.encode(JSON.stringify(message) + "\n")).catch(() => {}),
    next: (type) => outbox.next(type),
    close: async () => {
      try {
        child.kill("SIGKILL");
      } catch { /* already ended */ }
      await child.status;
      await readStderr;
    },
  };
}

function start(launch: BenchLaunch, name: string): RankHost {
  return launch === "threads" ? startThread(name) : startProcess(name);
}

/** One world size: every size in one mesh, results in size order. */
async function measureWorld(
  n: number,
  launch: BenchLaunch,
  sharedMemory: boolean,
  sizes: readonly SizeRun[],
  segmentBytes: number | undefined,
  kernels: KernelRequest | undefined,
  onResult: (result: AllReduceResult) => void,
): Promise<void> {
  const path: BenchPath = launch === "threads" && sharedMemory && n > 1 ? "shared memory" : "tcp";
  const largest = Math.max(...sizes.map((size) => size.bytes));
  const arena = path === "shared memory"
    ? createSharedArena(n, Math.min(DEFAULT_SLOT_FLOATS, Math.max(1, largest / 4)))
    : undefined;
  const hosts = Array.from({ length: n }, (_, rank) => start(launch, `Rank ${rank} of ${n}`));
  try {
    hosts.forEach((host, rank) =>
      host.send({
        type: "allReduce",
        rank,
        size: n,
        sizes,
        segmentBytes: segmentBytes ?? DEFAULT_SEGMENT_BYTES,
        ...(arena === undefined ? {} : { arena }),
        ...(kernels === undefined ? {} : { kernels }),
      })
    );
    const addresses = await Promise.all(
      hosts.map(async (host) => (await host.next("listening")).address),
    );
    for (const host of hosts) host.send({ type: "addresses", addresses });
    for (const size of sizes) {
      const measured = await Promise.all(hosts.map((host) => host.next("measured")));
      const slowest = size.iterations === 0 ? [0] : Array.from(
        { length: size.iterations },
        (_, i) => Math.max(...measured.map((m) => m.ms[i]!)),
      );
      const seconds = median(slowest) / 1000;
      // Thread ranks share one process, whose CPU time each of them reads: take one.
      const cpuMicros = launch === "threads"
        ? measured[0]!.cpuMicros
        : measured.reduce((sum, m) => sum + m.cpuMicros, 0);
      const algbw = size.bytes / seconds;
      const wrong = measured.map((m, rank) => m.wrong === null ? null : `rank ${rank}: ${m.wrong}`)
        .find((w) => w !== null);
      onResult({
        bytes: size.bytes,
        floats: size.bytes / 4,
        ranks: n,
        launch,
        path,
        iterations: size.iterations,
        seconds,
        algbw,
        busbw: busBandwidth(algbw, n),
        cpuSeconds: cpuMicros / 1e6 / Math.max(1, size.iterations),
        kernels: measured[0]!.kernels,
        correct: wrong === undefined,
        ...(wrong === undefined ? {} : { wrong }),
      });
    }
    await Promise.all(hosts.map((host) => host.next("done")));
  } finally {
    await Promise.all(hosts.map((host) => host.close()));
  }
}

/** Median seconds of three raw streams of `bytes` between two ranks of `launch`. */
async function measureRaw(launch: BenchLaunch, bytes: number): Promise<RawTcpResult> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const server = start(launch, "The raw stream's server");
    const client = start(launch, "The raw stream's client");
    try {
      server.send({ type: "rawServer", bytes });
      const { address } = await server.next("listening");
      client.send({ type: "rawClient", address, bytes });
      times.push((await client.next("rawDone")).ms / 1000);
    } finally {
      await Promise.all([server.close(), client.close()]);
    }
  }
  const seconds = median(times);
  return { launch, bytes, seconds, bytesPerSecond: bytes / seconds };
}

/**
 * Runs the benchmark: the raw TCP stream first, then every launch, world size and vector size.
 *
 * @param options Sizes, world sizes, launches, iterations.
 * @returns Every result; a wrong result is reported in it (`correct: false`), not thrown.
 * @throws {Error} When a rank fails or ends early, naming it.
 */
export async function benchAllReduce(
  options: AllReduceBenchOptions,
): Promise<AllReduceBenchReport> {
  const minimum = options.iterations ?? 5;
  // The shared arena is made here: a WebAssembly memory only where the kernels run.
  if (options.kernels !== undefined) selectKernels(options.kernels);
  const sizes: SizeRun[] = options.sizes.map((bytes) => {
    const iterations = iterationsFor(bytes, minimum);
    return { bytes, iterations, warmup: Math.max(1, Math.min(10, Math.floor(iterations / 10))) };
  });
  // A stream shorter than a few MiB measures its start-up, not the link.
  const rawBytes = options.rawBytes ?? Math.max(64 * 2 ** 20, ...options.sizes);
  const results: AllReduceResult[] = [];
  const rawTcp: RawTcpResult[] = [];
  for (const launch of options.launches) {
    if (rawBytes > 0) {
      const raw = await measureRaw(launch, rawBytes);
      rawTcp.push(raw);
      options.onRawTcp?.(raw);
    }
    for (const n of options.ranks) {
      await measureWorld(
        n,
        launch,
        options.sharedMemory ?? true,
        sizes,
        options.segmentBytes,
        options.kernels,
        (result) => {
          results.push(result);
          options.onResult?.(result);
        },
      );
    }
  }
  return { results, rawTcp };
}
