/**
 * What TensorFlow.js holds, for the memory samples of the step lines: the bytes of its live
 * tensors, and on the WASM backend the size of the WebAssembly heap they live in. The heap only
 * grows (WebAssembly memory cannot shrink), so its size is the high-water mark of the tensors a
 * step held at once plus the allocator's slack: the part of a worker's resident memory the
 * model's activations decide.
 *
 * @module
 */

import * as tf from "../deps/tfjs.ts";

/** A sample of TensorFlow.js's memory. */
export interface TensorMemory {
  /** Bytes of the live tensors' data (`tf.memory().numBytes`). */
  readonly tensorBytes: number;
  /** On the WASM backend: the WebAssembly heap's size in bytes. */
  readonly wasmBytes?: number;
}

/** The WASM backend's Emscripten module, of which only the heap view is read. */
interface WasmBackendLike {
  readonly wasm?: { readonly HEAPU8?: Uint8Array };
}

/**
 * Samples TensorFlow.js's memory (select the backend first).
 *
 * @returns The live tensors' bytes, and the WASM heap's size on the WASM backend.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "../deps/tfjs.ts";
 * import { selectBackend } from "./backend.ts";
 * import { tensorMemory } from "./tensor_memory.ts";
 * await selectBackend("cpu");
 * const before = tensorMemory().tensorBytes;
 * const t = tf.zeros([1000]);
 * assert.equal(tensorMemory().tensorBytes - before, 4000);
 * assert.equal(tensorMemory().wasmBytes, undefined);
 * t.dispose();
 * ```
 */
export function tensorMemory(): TensorMemory {
  const tensorBytes = tf.memory().numBytes;
  if (tf.getBackend() !== "wasm") return { tensorBytes };
  const heap = (tf.backend() as unknown as WasmBackendLike).wasm?.HEAPU8;
  return heap === undefined ? { tensorBytes } : { tensorBytes, wasmBytes: heap.buffer.byteLength };
}
