/**
 * The contract between the step driver (`chain.ts`) and the algorithm implementations
 * (docs/algorithms.md §0–§2). A training step is a chain in the shape of optax's `chain`: the
 * local optimizer turns a gradient into a direction, the base algorithm moves and mixes the
 * models, the outer algorithm runs its slow update every `tau` steps. Each part keeps explicit
 * state over flat `Float32Array`s, lists it as {@linkcode StateBuffer}s, and sees communication
 * only through the {@linkcode Communicator} (and the compressed channel) it is given.
 *
 * @module
 */

import type { BufferPolicy, Plan } from "../../dsl/plan.ts";
import type { Communicator, Phase } from "../comm/types.ts";
import type { CompressedChannel } from "../compressors/types.ts";
import type { StepMetrics } from "../metrics.ts";
import type { Stateful } from "../state.ts";

export type { StateBuffer, Stateful } from "../state.ts";

/** Loss and flat gradient of the worker's loss on this step's batch at some parameters. */
export interface GradientResult {
  /** The loss on the batch at `params`. */
  readonly loss: number;
  /** The flat gradient at `params`, one value per model parameter. */
  readonly grad: Float32Array;
}

/**
 * Computes `∇f_i(params; batch_{i,k})` for the current step's batch. May be called more than
 * once per step (on the same batch) by algorithms that need it.
 *
 * `into`, when given, is a buffer of `d` floats the caller owns and reuses from step to step:
 * the gradient may be written there instead of into a fresh array (for an MLP of 100k
 * parameters, a fresh 400 KB array per step costs as much as the update itself, mostly in page
 * faults). The result's `grad` is `into` or a fresh array; use the result. Pass it only when
 * nothing keeps the previous gradient.
 */
export type GradientOracle = (
  params: Float32Array,
  into?: Float32Array,
) => Promise<GradientResult>;

/**
 * A local optimizer (docs/algorithms.md §0.1): turns a gradient into a direction; the caller
 * moves the model by `x −= γ_k · dir`. Its coupled weight decay (`sgd`, `adam`) is added to the
 * gradient inside `direction`, unless the caller says the gradient already carries it (a base
 * that hands `g_i + wd · x_i` to a compressor, docs/algorithms.md §0); AdamW's decoupled decay is
 * part of the direction it returns (`dir + wd · x`) and never part of a gradient. Its gradient
 * clipping (`clipNorm`) applies to the gradient `direction` is given. It counts its own
 * directions (Adam's bias correction uses the count), so the caller computes exactly one
 * direction per step.
 */
export interface LocalOptimizer extends Stateful {
  /**
   * The direction for gradient `grad` at parameters `x` (updates the state and the count): the
   * gradient, its coupled decay added, clipped to `clipNorm`, through the optimizer's math, plus
   * AdamW's decoupled decay.
   *
   * @param grad The gradient.
   * @param x The parameters it was taken at.
   * @param decayed `grad` already includes the coupled `wd · x` (from
   *   {@linkcode LocalOptimizer.decay}), so it is not added a second time; default `false`.
   */
  direction(grad: Float32Array, x: Float32Array, decayed?: boolean): Float32Array;
  /**
   * Adds the coupled weight decay to a gradient in place, `g ← g + wd · x` rounded to float32
   * once per value (nothing when `wd = 0`, or for AdamW, whose decay is decoupled), for a base
   * whose gradient goes through a compressor before the optimizer sees it.
   *
   * @param grad The gradient, overwritten.
   * @param x The parameters it was taken at.
   * @returns `grad`.
   */
  decay(grad: Float32Array, x: Float32Array): Float32Array;
}

/** What a base step reports. */
export interface StepOutcome {
  /** The training loss of the step's batch. */
  readonly loss: number;
  /** The base's own per-step metrics, if any. */
  readonly metrics?: StepMetrics;
}

/** A worker's model, as outer algorithms see the base. */
export interface ModelHolder {
  /** The model this worker reports and evaluates (the de-biased `z_i` for sgp), a copy. */
  model(): Float32Array;
  /** Restarts this worker from `x` (outer algorithms); sgp also resets its weight to 1. */
  setModel(x: Float32Array): void;
}

/** One worker's side of a base algorithm. */
export interface BaseAlgorithm extends ModelHolder, Stateful {
  /** Runs inner step `k` with learning rate `lr`. */
  step(k: number, lr: number): Promise<StepOutcome>;
  /** Waits for communication still in flight (overlap algorithms) before the run ends. */
  finish?(): Promise<void>;
  /**
   * Before a checkpoint: waits for communication in flight and records its result in its
   * buffers (without applying it), so the buffers hold everything the next step needs.
   */
  settle?(): Promise<void>;
  /** After its buffers were restored from a checkpoint: rebuilds what they describe. */
  restored?(): void;
  /**
   * Elastic runs: the step that started the oldest collective still in flight across steps
   * (started, its result not used yet), or `null`. A lost worker can leave it half done, so
   * the run goes back to the start of that step and launches it again over the survivors.
   */
  inFlightSince?(): number | null;
  /**
   * Elastic runs: holds the collective in flight now, without waiting for it (computation goes
   * on), for a copy of the buffers taken now. The function returned waits for it later and
   * writes into that copy what `settle()` would have written now.
   */
  hold?(): SettleInto;
  /**
   * Elastic runs: workers `joiners` join at the step the members go on from, and `donor` will
   * hand each its state (`worker_loop.ts`'s `handOverState`). Called on every member, after the
   * rewind and before the donor's state is taken, so a state that must be shared rather than
   * copied (sgp's push-sum mass) is split here, and a slot kept for a worker (cada's server) is
   * cleared for the joiner.
   */
  joining?(joiners: readonly number[], donor: number): void;
}

/**
 * Writes the result of a held collective into a copy of the buffers (by name), as `settle()`
 * writes it into the live ones; resolves once written.
 */
export type SettleInto = (copy: Map<string, Float32Array | Float64Array>) => Promise<void>;

/** One worker's side of an outer algorithm, run after every inner step. */
export interface OuterAlgorithm extends Stateful {
  /** Runs after base step `k`; does nothing except at the end of its period. */
  afterStep(k: number, lr: number, base: ModelHolder): Promise<void>;
  /** Its own metrics of the latest step (Streaming DiLoCo's fragment and sync bytes), if any. */
  metrics?(): StepMetrics;
  /** Waits for communication still in flight (an overlapped sync) before the run ends. */
  finish?(): Promise<void>;
  /**
   * Before a checkpoint: waits for communication in flight and records its result in its
   * buffers (without applying it), as {@linkcode BaseAlgorithm.settle}.
   */
  settle?(): Promise<void>;
  /** After its buffers were restored from a checkpoint: rebuilds what they describe. */
  restored?(): void;
  /** Elastic runs: as {@linkcode BaseAlgorithm.inFlightSince}. */
  inFlightSince?(): number | null;
  /** Elastic runs: as {@linkcode BaseAlgorithm.hold}. */
  hold?(): SettleInto;
}

/**
 * Applies a buffer policy to every momentum buffer of the step (the optimizer's and the
 * base's). Every rank must call it at the same point with the same policy, like any collective.
 */
export type SyncBuffers = (policy: BufferPolicy, phase: Phase) => Promise<void>;

/** What the step driver gives every part of the step. */
export interface StepContext {
  /** The validated plan being run; each part reads its own node from it. */
  readonly plan: Plan;
  /** This worker's communicator: its rank, the world size and every collective. */
  readonly comm: Communicator;
  /** The common initial model `x_0` (rank 0's, broadcast before step 0). */
  readonly x0: Float32Array;
  /** Applies a buffer policy to the optimizer's and the base's momentum buffers. */
  readonly syncBuffers: SyncBuffers;
  /**
   * The sizes of the model's variables (tensors) in the flat vector's order, summing to `d`
   * (`[d]`, one variable, when the caller does not say): Streaming DiLoCo's fragments are made
   * of whole variables.
   */
  readonly variables: readonly number[];
}

/** Everything a base algorithm needs, injected by the step driver. */
export interface BaseContext extends StepContext {
  /** This worker's local optimizer, which turns gradients into directions. */
  readonly optimizer: LocalOptimizer;
  /** The gradient of this worker's loss on the current step's batch. */
  readonly gradient: GradientOracle;
  /**
   * The compressed mean over workers of what this base sends, when the plan has a compressor
   * (only bases whose traits name a payload get one); `null` otherwise.
   */
  readonly compressor: CompressedChannel | null;
  /**
   * Whether the outer algorithm averages the models after step `k`, so a base that would
   * average at the same step skips its own (docs/algorithms.md §1.2).
   */
  readonly outerSyncsAt: (k: number) => boolean;
}

/** Builds a base algorithm of one kind for one worker, from its node. */
export type BaseFactory<N> = (node: N, context: BaseContext) => BaseAlgorithm;

/** Builds an outer algorithm of one kind for one worker, from its node. */
export type OuterFactory<N> = (node: N, context: StepContext) => OuterAlgorithm;
