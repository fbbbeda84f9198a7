/**
 * TensorFlow.js, pinned (see `deps/mod.ts`). Only the runtime and report modules that train or
 * evaluate import it, so the plan layer loads without it.
 *
 * @module
 */
export * from "npm:@tensorflow/tfjs@4.22.0";
