/**
 * A Web Worker used by the TCP tests: joins a mesh as one rank, says "ready", answers one
 * message, then waits (until it is terminated).
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { connectTcpMesh, listenTcp } from "./tcp_transport.ts";

self.onmessage = async (event: MessageEvent<{ rank: number; size: number }>) => {
  const { rank, size } = event.data;
  const { listener, address } = listenTcp();
  self.postMessage({ address });
  const addresses = await new Promise<string[]>((resolve) => {
    self.onmessage = (next: MessageEvent<string[]>) => resolve(next.data);
  });
  const transport = await connectTcpMesh({ rank, size, listener, addresses, timeoutMs: Infinity });
  const got = await transport.recv(0, 1);
  await transport.send(0, 1, got, "base");
  self.postMessage({ ready: true });
  await transport.recv(0, 2); // never sent: the test terminates this worker
};
