/**
 * TensorFlow.js's WebAssembly backend, pinned to TensorFlow.js's version (see `deps/mod.ts`):
 * importing it registers the `wasm` backend.
 *
 * @module
 */
export * from "npm:@tensorflow/tfjs-backend-wasm@4.22.0";
