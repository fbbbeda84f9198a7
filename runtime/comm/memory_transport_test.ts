import assert from "node:assert/strict";
import { transportConformance } from "./_conformance.ts";
import { createMemoryCommunicators, createMemoryTransports } from "./memory_transport.ts";

transportConformance(
  "memory",
  (n, options) => Promise.resolve(createMemoryTransports(n, options)),
);

Deno.test("createMemoryTransports refuses an invalid size or timeout", () => {
  assert.throws(() => createMemoryTransports(0), {
    message: "Cannot create memory transports: n must be 1..65535, got 0",
  });
  assert.throws(() => createMemoryTransports(2, { timeoutMs: 0 }), {
    message: "Peer timeout must be a positive number of ms, got 0",
  });
});

Deno.test("memory communicators of one rank send nothing", async () => {
  const [comm] = createMemoryCommunicators(1);
  const sum = await comm!.allReduceSum(new Float32Array([1, 2]), "base");
  assert.deepEqual([...sum], [1, 2]);
  await comm!.barrier();
  assert.deepEqual(comm!.stats().sent, { base: 0, outer: 0, compressed: 0, control: 0, state: 0 });
});

Deno.test("an infinite timeout waits without a timer", async () => {
  const [a, b] = createMemoryTransports(2, { timeoutMs: Infinity });
  const waiting = a!.recv(1, 0);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await b!.send(0, 0, new Uint8Array([3]), "base");
  assert.deepEqual([...await waiting], [3]);
  await Promise.all([a!.close(), b!.close()]);
});
