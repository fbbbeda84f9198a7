/**
 * What data is to the training loop and to models: a per-worker stream of batches and a shared
 * test set. Models read these batches (`../models/types.ts`); data knows no model.
 *
 * @module
 */

/**
 * A batch of examples, row-major. For language data an example is a window of `T + 1` tokens:
 * `x` holds the first `T` token ids of each window (`size × T`, ids stored as floats, exact below
 * 2^24) and `y` the `T` next tokens (`size × T`).
 */
export interface Batch {
  /** Inputs, `size × features` values (`size × T` token ids for language data). */
  readonly x: Float32Array;
  /**
   * Targets: class indices (classification) or values (regression), one per example; for
   * language data, `T` next-token ids per example.
   */
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
