/**
 * Reading a model's gradient tensors back into one flat float32 vector, the form every algorithm
 * works on. Shared by the Keras models (`tf_model.ts`) and the transformer (`transformer.ts`).
 *
 * @module
 */

import * as tf from "../../deps/tfjs.ts";

/** The WASM backend's heap access (read-only use here). */
interface WasmHeap {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

/**
 * Reads float32 tensors into one flat array: `into` when it has the right length, else a fresh
 * one. On WASM each tensor is copied straight from the heap (no concatenation kernel, no
 * intermediate copy); elsewhere the tensors are concatenated on the device and read back once
 * (one GPU synchronisation).
 *
 * @param tensors The tensors, in flat-vector order.
 * @param length Their total size.
 * @param into A buffer to fill, when the caller has one.
 * @returns The flat values: `into` when it was used.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "../../deps/tfjs.ts";
 * import { readFlat } from "./read_flat.ts";
 * import { selectBackend } from "../backend.ts";
 * await selectBackend("cpu");
 * const parts = [tf.tensor2d([[1, 2], [3, 4]]), tf.tensor1d([5])];
 * const into = new Float32Array(5);
 * assert.equal(await readFlat(parts, 5, into), into);
 * assert.deepEqual([...into], [1, 2, 3, 4, 5]);
 * tf.dispose(parts);
 * ```
 */
export async function readFlat(
  tensors: readonly tf.Tensor[],
  length: number,
  into?: Float32Array,
): Promise<Float32Array> {
  const flat = into?.length === length ? into : new Float32Array(length);
  if (tf.getBackend() === "wasm") {
    const heap = tf.backend() as unknown as WasmHeap;
    let offset = 0;
    for (const t of tensors) {
      flat.set(
        heap.typedArrayFromHeap({ dataId: t.dataId, shape: t.shape, dtype: "float32" }),
        offset,
      );
      offset += t.size;
    }
    return flat;
  }
  const joined = tf.tidy(() => tf.concat(tensors.map((t) => tf.reshape(t, [-1]))));
  try {
    flat.set((await joined.data()) as Float32Array);
    return flat;
  } finally {
    joined.dispose();
  }
}
