/**
 * The contract between the worker's training loop and the algorithm implementations
 * (ALGORITHMS.md §0–§2). Algorithms are `init`/`step` pairs with explicit state over flat
 * `Float32Array`s (after optax): math in small pure functions, communication injected through
 * the {@linkcode Communicator}, gradients through a {@linkcode GradientOracle}.
 *
 * @module
 */

import type { Plan } from "../../dsl/plan.ts";
import type { Communicator } from "../comm/types.ts";

/** Loss and flat gradient of the worker's loss on this step's batch at some parameters. */
export interface GradientResult {
  readonly loss: number;
  readonly grad: Float32Array;
}

/**
 * Computes `∇f_i(params; batch_{i,k})` for the current step's batch. May be called more than
 * once per step (on the same batch) by algorithms that need it.
 */
export type GradientOracle = (params: Float32Array) => Promise<GradientResult>;

/**
 * A local optimizer (ALGORITHMS.md §0.1): turns a gradient into a direction; the caller moves
 * the model by `x −= γ_k · dir`. Weight decay is added to the gradient inside `direction`.
 */
export interface LocalOptimizer {
  /** The direction for gradient `grad` at parameters `x` on step `k` (updates internal state). */
  direction(grad: Float32Array, x: Float32Array, k: number): Float32Array;
  /** The state buffers (momentum, Adam moments), for the `buffers` policy at a sync point. */
  buffers(): Float32Array[];
  /** Zeroes every buffer (`buffers: "reset"`). */
  reset(): void;
}

/** Everything a base algorithm needs, injected by the worker loop. */
export interface BaseContext {
  readonly plan: Plan;
  readonly rank: number;
  readonly comm: Communicator;
  /** The common initial model `x_0` (rank 0's, broadcast before step 0). */
  readonly x0: Float32Array;
  readonly optimizer: LocalOptimizer;
  readonly gradient: GradientOracle;
}

/** One worker's side of a base algorithm. */
export interface BaseAlgorithm {
  /** Runs inner step `k` with learning rate `lr`; returns the training loss of the step. */
  step(k: number, lr: number): Promise<{ readonly loss: number }>;
  /** The model this worker reports and evaluates (the de-biased `z_i` for sgp). */
  model(): Float32Array;
  /** Restarts this worker from `x` (outer algorithms); sgp also resets its weight to 1. */
  setModel(x: Float32Array): void;
  /** The local optimizer, for buffer policies at synchronisation points. */
  readonly optimizer: LocalOptimizer;
  /** Waits for communication still in flight (overlap algorithms) before the run ends. */
  finish?(): Promise<void>;
}

/** One worker's side of an outer algorithm, run after every inner step. */
export interface OuterAlgorithm {
  afterStep(k: number, lr: number, base: BaseAlgorithm): Promise<void>;
}

/** Builds a base algorithm for one worker. */
export type BaseFactory = (context: BaseContext) => BaseAlgorithm;

/** Builds an outer algorithm for one worker. */
export type OuterFactory = (context: BaseContext) => OuterAlgorithm;
