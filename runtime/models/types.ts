/**
 * The contract between the training loop and models: a model is a flat parameter vector with a
 * loss, a gradient and an evaluation on the batches of `../data/types.ts`.
 *
 * @module
 */

import type { Batch } from "../data/types.ts";

/** Loss and accuracy of a model on a data set. */
export interface Evaluation {
  readonly loss: number;
  /** Fraction correct for classification, `null` for regression. */
  readonly accuracy: number | null;
}

/** One named tensor of a model's flat parameter vector. */
export interface TensorLayout {
  /** Its name in `model.safetensors` (e.g. `hidden0.kernel`, `transformer.wte.weight`). */
  readonly name: string;
  /** Its shape; the tensor's values are the next `product(shape)` values, row-major. */
  readonly shape: readonly number[];
}

/** A model as the algorithms see it: everything through flat float32 parameter vectors. */
export interface TrainableModel {
  /** `d`, the length of the flat parameter vector. */
  readonly parameterCount: number;
  /**
   * The named tensors the flat vector is made of, in order; their sizes sum to `d`. A run's
   * `model.safetensors` stores the final averaged model under these names and shapes.
   */
  readonly tensors: readonly TensorLayout[];
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
