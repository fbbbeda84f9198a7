/**
 * One rank of `gossamer bench allreduce`, or one end of its raw TCP stream. The same module runs
 * as a Web Worker (messages by `postMessage`) and as a process (one JSON message per line on
 * standard input and output), so threads and processes run the same measuring code.
 *
 * Each rank times every all-reduce between two barriers, then checks every element of the
 * result against its closed form outside the timed region: rank `r` contributes
 * `r + 1 + (i mod 5)` at element `i`, so the sum is `n(n+1)/2 + n·(i mod 5)`, exact in float32.
 *
 * @module
 */

import process from "node:process";
import { createCommunicator } from "../communicator.ts";
import { lines, Queue } from "./_channel.ts";
import { type SharedArena, SharedReducer } from "../shared_reduce.ts";
import { connectTcpMesh, listenTcp, parseAddress } from "../tcp_transport.ts";
import { messageOf } from "../../errors.ts";
import {
  type KernelRequest,
  kernelSelection,
  selectKernels,
} from "../../kernels/vector_kernels.ts";

/** One size to measure: its bytes, and how many timed iterations after how many warm-ups. */
export interface SizeRun {
  readonly bytes: number;
  readonly iterations: number;
  readonly warmup: number;
}

/** What the orchestrator tells a rank. */
export type ToRank =
  | {
    readonly type: "allReduce";
    readonly rank: number;
    readonly size: number;
    readonly sizes: readonly SizeRun[];
    readonly segmentBytes: number;
    /** Reduce through this shared memory (thread ranks only) instead of the TCP ring. */
    readonly arena?: SharedArena;
    /** The vector kernels to reduce with (default: as chosen with `auto`). */
    readonly kernels?: KernelRequest;
  }
  | { readonly type: "addresses"; readonly addresses: readonly string[] }
  | { readonly type: "rawServer"; readonly bytes: number }
  | { readonly type: "rawClient"; readonly address: string; readonly bytes: number };

/** What a rank reports. */
export type FromRank =
  | { readonly type: "listening"; readonly address: string }
  | {
    readonly type: "measured";
    readonly bytes: number;
    /** Milliseconds of each timed iteration on this rank. */
    readonly ms: readonly number[];
    /** The first wrong element, or null when every result was exact. */
    readonly wrong: string | null;
    /** CPU time of this process (all its threads) over the timed iterations, microseconds. */
    readonly cpuMicros: number;
    /** The vector kernels this rank reduced with (`wasm-simd` or `js`). */
    readonly kernels: string;
  }
  | { readonly type: "done" }
  | { readonly type: "rawDone"; readonly ms: number }
  | { readonly type: "failed"; readonly message: string };

/** How a rank talks to the orchestrator. */
interface Channel {
  post(message: FromRank): void;
  next(): Promise<ToRank>;
}

/** Rank `r`'s value at element `i`. */
export function contribution(rank: number, i: number): number {
  return rank + 1 + (i % 5);
}

/** The exact sum over `n` ranks at element `i`. */
export function expectedSum(n: number, i: number): number {
  return n * (n + 1) / 2 + n * (i % 5);
}

function fill(data: Float32Array, rank: number): void {
  for (let i = 0; i < data.length; i++) data[i] = contribution(rank, i);
}

/** The first element of `data` that differs from its closed-form sum over `n` ranks, or null. */
export function firstWrong(data: Float32Array, n: number): string | null {
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== expectedSum(n, i)) {
      return `element ${i} is ${data[i]}, expected ${expectedSum(n, i)}`;
    }
  }
  return null;
}

async function allReduce(
  channel: Channel,
  message: Extract<ToRank, { type: "allReduce" }>,
): Promise<void> {
  const { rank, size, sizes, segmentBytes, arena } = message;
  if (message.kernels !== undefined) selectKernels(message.kernels);
  const { listener, address } = listenTcp();
  channel.post({ type: "listening", address });
  const addresses = await channel.next();
  if (addresses.type !== "addresses") throw new Error(`Expected addresses, got ${addresses.type}`);
  const transport = await connectTcpMesh({
    rank,
    size,
    listener,
    addresses: addresses.addresses,
  });
  const shared = arena === undefined ? null : new SharedReducer(arena, rank);
  try {
    const comm = createCommunicator(transport, {
      segmentBytes,
      ...(shared === null ? {} : { sharedReducer: shared }),
    });
    for (const run of sizes) {
      const data = new Float32Array(run.bytes / 4);
      const ms: number[] = [];
      let wrong: string | null = null;
      let cpuMicros = 0;
      for (let i = 0; i < run.warmup + run.iterations; i++) {
        fill(data, rank);
        await comm.barrier();
        const cpu = process.cpuUsage();
        const start = performance.now();
        await comm.allReduceSumInPlace(data, "base");
        const elapsed = performance.now() - start;
        // Thread ranks read their process's CPU time, every rank's at once: a barrier before
        // reading it keeps the other ranks' ends of the all-reduce in, and their checks of the
        // result out.
        if (inWorker) await comm.barrier();
        const used = process.cpuUsage(cpu);
        if (i >= run.warmup) {
          ms.push(elapsed);
          cpuMicros += used.user + used.system;
        }
        wrong ??= firstWrong(data, size);
      }
      const kernels = kernelSelection().kernels;
      channel.post({ type: "measured", bytes: run.bytes, ms, wrong, cpuMicros, kernels });
    }
    await comm.barrier();
    channel.post({ type: "done" });
  } finally {
    shared?.close();
    await transport.close();
  }
}

async function rawServer(channel: Channel, bytes: number): Promise<void> {
  const { listener, address } = listenTcp();
  channel.post({ type: "listening", address });
  const conn = await listener.accept();
  listener.close();
  conn.setNoDelay(true);
  const buffer = new Uint8Array(1 << 20);
  let received = 0;
  while (received < bytes) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("The raw stream ended early");
    received += n;
  }
  await conn.write(new Uint8Array(1));
  conn.close();
}

async function rawClient(channel: Channel, address: string, bytes: number): Promise<void> {
  const conn = await Deno.connect(parseAddress(address));
  conn.setNoDelay(true);
  const chunk = new Uint8Array(4 << 20).fill(7);
  const start = performance.now();
  for (let sent = 0; sent < bytes;) {
    sent += await conn.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent)));
  }
  await conn.read(new Uint8Array(1)); // the server has read everything
  const ms = performance.now() - start;
  conn.close();
  channel.post({ type: "rawDone", ms });
}

/** Runs what the first message asks for, reporting any failure instead of throwing. */
async function serve(channel: Channel): Promise<void> {
  try {
    const message = await channel.next();
    if (message.type === "allReduce") await allReduce(channel, message);
    else if (message.type === "rawServer") await rawServer(channel, message.bytes);
    else if (message.type === "rawClient") {
      await rawClient(channel, message.address, message.bytes);
    } else throw new Error(`Unexpected first message ${message.type}`);
  } catch (error) {
    channel.post({
      type: "failed",
      message: messageOf(error),
    });
  }
}

function threadChannel(scope: {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent<ToRank>) => void) | null;
}): Channel {
  const inbox = new Queue<ToRank>();
  scope.onmessage = (event) => inbox.push(event.data);
  return { post: (message) => scope.postMessage(message), next: () => inbox.next() };
}

function processChannel(): Channel {
  const inbox = new Queue<ToRank>();
  const encoder = new TextEncoder();
  (async () => {
    for await (const line of lines(Deno.stdin.readable)) inbox.push(JSON.parse(line) as ToRank);
  })();
  const post = (message: FromRank) => {
    const line = encoder.encode(JSON.stringify(message) + "\n");
    for (let written = 0; written < line.length;) {
      written += Deno.stdout.writeSync(line.subarray(written));
    }
  };
  return { post, next: () => inbox.next() };
}

const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !==
  "undefined";
if (inWorker) {
  const scope = globalThis as unknown as Parameters<typeof threadChannel>[0] & { close(): void };
  serve(threadChannel(scope)).finally(() => scope.close());
} else if (import.meta.main) {
  await serve(processChannel());
  Deno.exit(0);
}
