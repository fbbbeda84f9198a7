/**
 * PLACEHOLDER for the TensorFlow.js transformer (`shared/MODELS.md`), written on another branch:
 * it keeps the signature `create_model.ts` calls, and refuses to build a model until the real
 * module replaces this file.
 *
 * @module
 */

import type { TrainableModel } from "./types.ts";

/** The sizes of a transformer, as the plan's `transformer` node holds them. */
export interface TransformerSizes {
  /** Transformer blocks `L`. */
  readonly layers: number;
  /** Width of the residual stream `D`. */
  readonly dModel: number;
  /** Attention heads `H`. */
  readonly heads: number;
  /** Context length `T`. */
  readonly context: number;
  /** MLP width as a multiple of `dModel`. */
  readonly mlpRatio: number;
}

/**
 * Builds the transformer over a vocabulary of `vocabulary` tokens as a {@linkcode TrainableModel}
 * whose `evaluate` returns the mean next-token cross-entropy in nats and the next-token accuracy.
 *
 * @param node The model's sizes.
 * @param vocabulary The data's vocabulary size `V`.
 * @param _seed Unused here: parameters are drawn by `initialParameters(seed)`.
 * @returns Never: the runtime model is not built yet.
 * @throws {Error} Always, until the real module replaces this placeholder.
 */
export function createTransformerModel(
  node: TransformerSizes,
  vocabulary: number,
  _seed?: number,
): Promise<TrainableModel> {
  return Promise.reject(
    new Error(
      `the transformer runtime model is not built yet (layers ${node.layers}, ` +
        `vocabulary ${vocabulary})`,
    ),
  );
}
