/**
 * Web Worker of `allreduce_bench.ts`: one rank of a TCP all-reduce, or one end of a raw TCP
 * stream. Every message to and from the main thread is described by {@linkcode ToWorker} and
 * {@linkcode FromWorker}.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { createCommunicator } from "../runtime/comm/communicator.ts";
import { connectTcpMesh, listenTcp, parseAddress } from "../runtime/comm/tcp_transport.ts";

/** What the main thread tells a worker. */
export type ToWorker =
  | {
    type: "allReduce";
    /** Reduce into the input buffer (nccl-tests style) or allocate a result each call. */
    inPlace: boolean;
    segmentBytes: number;
    rank: number;
    size: number;
    floats: number;
    iterations: number;
  }
  | { type: "addresses"; addresses: string[] }
  | { type: "rawServer"; bytes: number }
  | { type: "rawClient"; address: string; bytes: number; writeBytes: number };

/** What a worker reports. */
export type FromWorker =
  | { type: "listening"; address: string }
  | { type: "allReduceDone"; ms: number[]; check: number }
  | { type: "rawDone"; ms: number }
  | { type: "failed"; message: string };

const post = (message: FromWorker) => self.postMessage(message);
let addresses: (value: string[]) => void = () => {};

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "addresses") return addresses(message.addresses);
  const work = message.type === "allReduce"
    ? allReduce(message)
    : message.type === "rawServer"
    ? rawServer(message.bytes)
    : rawClient(message.address, message.bytes, message.writeBytes);
  work.catch((error) => post({ type: "failed", message: String(error?.stack ?? error) }));
};

async function allReduce(
  { inPlace, segmentBytes, rank, size, floats, iterations }: Extract<
    ToWorker,
    { type: "allReduce" }
  >,
): Promise<void> {
  const { listener, address } = listenTcp();
  const all = new Promise<string[]>((resolve) => addresses = resolve);
  post({ type: "listening", address });
  const transport = await connectTcpMesh({ rank, size, listener, addresses: await all });
  try {
    const comm = createCommunicator(transport, { segmentBytes });
    const data = new Float32Array(floats).fill(rank + 1);
    let check = 0;
    await comm.allReduceSum(data, "base"); // warm-up
    const ms: number[] = [];
    for (let i = 0; i < iterations; i++) {
      if (inPlace) data.fill(rank + 1);
      await comm.barrier();
      const start = performance.now();
      const sum = inPlace
        ? await comm.allReduceSumInPlace(data, "base")
        : await comm.allReduceSum(data, "base");
      ms.push(performance.now() - start);
      check = sum[floats - 1]!;
    }
    await comm.barrier();
    post({ type: "allReduceDone", ms, check });
  } finally {
    await transport.close();
  }
}

async function rawServer(bytes: number): Promise<void> {
  const { listener, address } = listenTcp();
  post({ type: "listening", address });
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

async function rawClient(address: string, bytes: number, writeBytes: number): Promise<void> {
  const conn = await Deno.connect(parseAddress(address));
  conn.setNoDelay(true);
  const chunk = new Uint8Array(writeBytes).fill(7);
  const start = performance.now();
  for (let sent = 0; sent < bytes;) {
    const n = await conn.write(chunk.subarray(0, Math.min(writeBytes, bytes - sent)));
    sent += n;
  }
  await conn.read(new Uint8Array(1)); // the server has read everything
  const ms = performance.now() - start;
  conn.close();
  post({ type: "rawDone", ms });
}
