/**
 * The contract between the training loop and models and data: a model is a flat parameter
 * vector with a loss, a gradient and an evaluation; data is a per-worker stream of batches.
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

/** Loss and accuracy of a model on a data set. */
export interface Evaluation {
  readonly loss: number;
  /** Fraction correct for classification, `null` for regression. */
  readonly accuracy: number | null;
}

/** A model as the algorithms see it: everything through flat float32 parameter vectors. */
export interface TrainableModel {
  /** `d`, the length of the flat parameter vector. */
  readonly parameterCount: number;
  /** The initial parameters (model variable order, row-major), seeded. */
  initialParameters(seed: number): Float32Array;
  /**
   * Loss and flat gradient at `params` on `batch`; the gradient may be written into `into` (see
   * `GradientOracle`), and the result's `grad` is then `into`.
   */
  gradient(
    params: Float32Array,
    batch: Batch,
    into?: Float32Array,
  ): Promise<{ loss: number; grad: Float32Array }>;
  /** Loss and accuracy at `params` on `batch`. */
  evaluate(params: Float32Array, batch: Batch): Promise<Evaluation>;
  /** Frees tensors held by the model. */
  dispose(): void;
}
