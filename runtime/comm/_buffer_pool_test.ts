import assert from "node:assert/strict";
import { BufferPool, recyclePayload } from "./_buffer_pool.ts";
import { createMemoryTransports } from "./memory_transport.ts";

Deno.test("the pool reuses buffers of the same length within its budget", () => {
  const pool = new BufferPool(10_000);
  const a = pool.take(8192);
  pool.give(a);
  assert.equal(pool.take(8192), a);
  assert.notEqual(pool.take(8192), a);
  pool.give(new Uint8Array(16_000)); // over budget: dropped
  assert.notEqual(pool.take(16_000).byteLength, 0);
  const small = new Uint8Array(10);
  pool.give(small); // too small to pool
  assert.notEqual(pool.take(10), small);
  const view = new Uint8Array(9000).subarray(4);
  pool.give(view); // a view into a larger buffer is never pooled
  assert.notEqual(pool.take(8996), view);
});

Deno.test("recycled payloads are reused by the memory transport", async () => {
  const [a, b] = createMemoryTransports(2);
  await a!.send(1, 0, new Uint8Array(5000).fill(1), "base");
  const first = await b!.recv(0, 0);
  recyclePayload(b!, first);
  await a!.send(1, 0, new Uint8Array(5000).fill(2), "base");
  const second = await b!.recv(0, 0);
  assert.equal(second, first);
  assert.ok(second.every((value) => value === 2));
  await Promise.all([a!.close(), b!.close()]);
});
