/**
 * The linear model `a·x` without bias, in plain JavaScript (no TensorFlow.js), for regression
 * and the deterministic least-squares problem of docs/algorithms.md §5.
 *
 * On a batch with rows `A` (`m × d`) and targets `b`, the loss is `(1/(2m)) ‖A w − b‖²` and the
 * gradient `Aᵀ(A w − b) / m`. Both are accumulated in float64 and the gradient is then stored as
 * float32, so results are reproducible to the last bit on every machine.
 *
 * Initialisation: `"zeros"`, or `"random"`: independent `N(0, 1/d)` draws from
 * `randomStream(seed, "init", 0)`.
 *
 * @module
 */

import type { Batch } from "../data/types.ts";
import type { Evaluation, TrainableModel } from "./types.ts";
import { randomStream } from "../random.ts";

/** Options of {@linkcode linearModel}. */
export interface LinearModelOptions {
  /** Number of weights `d` (features per row). */
  readonly dim: number;
  /** `"zeros"` or seeded `"random"` initial weights. */
  readonly init: "zeros" | "random";
}

/**
 * Loss `(1/(2m)) ‖A w − b‖²` and gradient `Aᵀ(A w − b) / m` of a linear model on a batch,
 * computed in float64.
 *
 * @param params The weights `w` (`d` values).
 * @param batch Rows `A` (`m × d`, row-major) and targets `b`.
 * @returns The loss and the float64 gradient.
 * @throws {RangeError} When the batch's rows do not have `d` values or the batch is empty.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearLossAndGradient } from "./linear_model.ts";
 * const batch = { x: new Float32Array([1, 0, 0, 1]), y: new Float32Array([1, 2]), size: 2 };
 * const { loss, grad } = linearLossAndGradient(new Float32Array([0, 0]), batch);
 * assert.ok(loss === 1.25 && grad[0] === -0.5 && grad[1] === -1);
 * ```
 */
export function linearLossAndGradient(
  params: Float32Array,
  batch: Batch,
): { loss: number; grad: Float64Array } {
  const d = params.length;
  const m = batch.size;
  if (m < 1 || batch.x.length !== m * d || batch.y.length !== m) {
    throw new RangeError(
      `Linear model with ${d} weights cannot use a batch of ${m} rows with ${batch.x.length} inputs and ${batch.y.length} targets`,
    );
  }
  const grad = new Float64Array(d);
  let sumSq = 0;
  for (let i = 0; i < m; i++) {
    const row = i * d;
    let r = -batch.y[i]!;
    for (let j = 0; j < d; j++) r += batch.x[row + j]! * params[j]!;
    sumSq += r * r;
    for (let j = 0; j < d; j++) grad[j] = grad[j]! + batch.x[row + j]! * r;
  }
  for (let j = 0; j < d; j++) grad[j] = grad[j]! / m;
  return { loss: sumSq / (2 * m), grad };
}

/**
 * A linear model without bias as a {@linkcode TrainableModel}.
 *
 * @param options The number of weights and the initialisation.
 * @returns The model; `dispose` is a no-op.
 * @throws {RangeError} When `dim` is not a positive integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearModel } from "./linear_model.ts";
 * const model = linearModel({ dim: 2, init: "zeros" });
 * const batch = { x: new Float32Array([1, 2]), y: new Float32Array([3]), size: 1 };
 * const { loss, grad } = await model.gradient(model.initialParameters(1), batch);
 * assert.ok(loss === 4.5 && grad[0] === -3 && grad[1] === -6);
 * ```
 */
export function linearModel(options: LinearModelOptions): TrainableModel {
  const { dim, init } = options;
  if (!Number.isInteger(dim) || dim < 1) {
    throw new RangeError(`Linear model dim must be a positive integer: ${dim}`);
  }
  return {
    parameterCount: dim,
    // One vector of `dim` weights, as `linear` has no bias.
    tensors: [{ name: "weight", shape: [dim] }],
    initialParameters(seed: number): Float32Array {
      if (init === "zeros") return new Float32Array(dim);
      const random = randomStream(seed, "init", 0);
      const scale = 1 / Math.sqrt(dim);
      return Float32Array.from({ length: dim }, () => random.normal(0, scale));
    },
    gradient(params: Float32Array, batch: Batch) {
      try {
        const { loss, grad } = linearLossAndGradient(params, batch);
        return Promise.resolve({ loss, grad: Float32Array.from(grad) });
      } catch (error) {
        return Promise.reject(error);
      }
    },
    evaluate(params: Float32Array, batch: Batch): Promise<Evaluation> {
      try {
        return Promise.resolve({ loss: linearLossAndGradient(params, batch).loss, accuracy: null });
      } catch (error) {
        return Promise.reject(error);
      }
    },
    dispose(): void {},
  };
}
