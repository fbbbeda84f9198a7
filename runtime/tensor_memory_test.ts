import assert from "node:assert/strict";
import * as tf from "../deps/tfjs.ts";
import { selectBackend } from "./backend.ts";
import { tensorMemory } from "./tensor_memory.ts";

Deno.test("on WASM the heap's size is read, and holds the live tensors", async () => {
  await selectBackend("wasm");
  const before = tensorMemory();
  // 64 MiB of float32: the heap must be at least that large.
  const big = tf.zeros([16 * 2 ** 20]);
  const after = tensorMemory();
  try {
    assert.equal(after.tensorBytes - before.tensorBytes, 64 * 2 ** 20);
    assert.ok(after.wasmBytes !== undefined && after.wasmBytes >= after.tensorBytes);
    assert.ok(after.wasmBytes >= 64 * 2 ** 20);
  } finally {
    big.dispose();
  }
  // Freed tensors leave the heap as large as it grew: WebAssembly memory does not shrink.
  assert.equal(tensorMemory().wasmBytes, after.wasmBytes);
  assert.equal(tensorMemory().tensorBytes, before.tensorBytes);
});
