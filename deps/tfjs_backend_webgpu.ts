/**
 * TensorFlow.js's WebGPU backend, pinned to TensorFlow.js's version (see `deps/mod.ts`):
 * importing it registers the `webgpu` backend.
 *
 * @module
 */
export * from "npm:@tensorflow/tfjs-backend-webgpu@4.22.0";
