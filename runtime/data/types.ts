/**
 * What data is to the training loop and to models: a per-worker stream of batches and a shared
 * test set. Models read these batches (`../models/types.ts`); data knows no model.
 *
 * @module
 */

/** A batch of examples, row-major. */
export interface Batch {
  /** Inputs, `size × features` values. */
  readonly x: Float32Array;
  /** Targets: class indices (classification) or values (regression), one per example. */
  readonly y: Float32Array;
  readonly size: number;
}

/** One worker's data: its training batches and the shared test set. */
export interface WorkerData {
  /** Number of training examples in this worker's shard. */
  readonly shardSize: number;
  /** The batch of step `k` (deterministic in the seed, rank and step). */
  batch(k: number): Batch;
  /** The held-out examples (the same on every worker). */
  readonly test: Batch;
}
