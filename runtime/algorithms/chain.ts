/**
 * The step driver: the one place a training step is assembled and run, by the worker loop and
 * by the algorithm tests alike. A step is a chain in the shape of optax's `chain`: the local
 * optimizer (direction from gradient) inside the base algorithm (move and mix the models,
 * possibly through the compressor), followed by the outer algorithm (slow update every `tau`
 * steps). The driver owns what crosses the parts: the learning rate of each step, the buffer
 * policy that reaches the optimizer's and the base's momentum buffers alike, whether the outer
 * step averages at a step (so a base can skip its own average), and the list of every buffer.
 *
 * @module
 */

import type { Plan } from "../../dsl/plan.ts";
import { learningRate } from "../../dsl/schedules.ts";
import { baseTraits } from "../../dsl/traits.ts";
import type { Communicator } from "../comm/types.ts";
import { createChannel } from "../compressors/registry.ts";
import type { CompressedChannel } from "../compressors/types.ts";
import type { StepMetrics } from "../metrics.ts";
import type { StateBuffer, Stateful } from "../state.ts";
import { applyBufferPolicy, createOptimizer } from "./optimizers.ts";
import { createBase, createOuter } from "./registry.ts";
import { CADA_SERVER, CADA_SERVER_BUFFERS } from "./cada.ts";
import type {
  BaseAlgorithm,
  GradientOracle,
  LocalOptimizer,
  OuterAlgorithm,
  StepContext,
  SyncBuffers,
} from "./types.ts";
import { endsPeriod } from "./_vector.ts";

/** What the step driver needs from the worker. */
export interface ChainOptions {
  /** The validated plan; each part of the chain is built from its node. */
  readonly plan: Plan;
  /** This worker's communicator. */
  readonly comm: Communicator;
  /** The common initial model `x_0`. */
  readonly x0: Float32Array;
  /** The gradient of this worker's loss on the current step's batch. */
  readonly gradient: GradientOracle;
  /**
   * The sizes of the model's variables in the flat vector's order (`TrainableModel.tensors`);
   * default `[d]`, one variable.
   */
  readonly variables?: readonly number[];
}

/** What one step did. */
export interface StepResult {
  /** The training loss of the step's batch. */
  readonly loss: number;
  /** The learning rate `γ_k` of the step. */
  readonly lr: number;
  /** The algorithm's own metrics (base, compressor and outer), empty for most algorithms. */
  readonly metrics: StepMetrics;
}

/** The parts of one worker's step. */
export interface ChainParts {
  /** The local optimizer, from the plan's `optimizer` node. */
  readonly optimizer: LocalOptimizer;
  /** The base algorithm, from the plan's `base` node. */
  readonly base: BaseAlgorithm;
  /** The compressed channel the base sends through; `null` when the plan has no compressor. */
  readonly compressor: CompressedChannel | null;
  /** The outer algorithm, from the plan's `outer` node; `null` when the plan has none. */
  readonly outer: OuterAlgorithm | null;
}

/** One worker's training step, assembled from the plan. */
export interface TrainingChain {
  /** Runs step `k`: base step, then outer step. */
  step(k: number): Promise<StepResult>;
  /** The model this worker reports and evaluates (the de-biased `z_i` for sgp), a copy. */
  model(): Float32Array;
  /** Every buffer of every part, live and named (optimizer, base, compressor, outer). */
  buffers(): StateBuffer[];
  /** Waits for communication still in flight before the run ends. */
  finish(): Promise<void>;
  /**
   * Everything this worker's next step depends on, for a checkpoint: every part's buffers (the
   * model included), after communication in flight has settled into them.
   */
  checkpoint(): Promise<StateBuffer[]>;
  /**
   * Continues from a checkpoint: writes each saved buffer into the live one of the same name.
   *
   * @throws {Error} When the checkpoint's buffers are not exactly this chain's (names, lengths
   *   and precision).
   */
  restore(saved: ReadonlyMap<string, Float32Array | Float64Array>): void;
  /**
   * Elastic runs: the step that started the oldest collective still in flight across steps
   * (overlapLocalSgd's average, streamingDiloco's sync), or `null`. A worker lost meanwhile
   * leaves it half done, so the survivors must go back to that step's start, not to the step
   * they noticed the loss in.
   */
  inFlightSince(): number | null;
  /**
   * Elastic runs: a copy of every buffer now, taken without waiting for communication in flight
   * (so computation still overlaps it). The function returned waits for what was in flight at
   * the copy and gives the copy as `checkpoint()` would have given it then, ready for
   * `restore`. Call it only once those collectives have completed: a worker goes back to a
   * step no later than the start of any collective it has not completed (`inFlightSince`).
   */
  snapshot(): () => Promise<Map<string, Float32Array | Float64Array>>;
  /**
   * Elastic runs: `joiners` join now with `donor`'s state; every member calls it after the
   * rewind, before the donor's state is taken ({@linkcode BaseAlgorithm.joining}).
   */
  joining(joiners: readonly number[], donor: number): void;
  /** The parts, for tests and diagnostics. */
  readonly parts: ChainParts;
}

/**
 * Assembles one worker's training step from its plan.
 *
 * @param options The plan, the communicator, `x_0` and the gradient oracle.
 * @returns The worker's chain.
 * @throws {RangeError} When the topology does not fit the number of workers.
 * @example One worker, plain SGD on `f(x) = x²/2` (gradient `x`)
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTrainingChain } from "./chain.ts";
 * import { createMemoryCommunicators } from "../comm/memory_transport.ts";
 * import { allReduce, leastSquares, linear, sgd, train } from "../../mod.ts";
 *
 * const plan = train(linear({ dim: 1 })).data(leastSquares({ file: "unused.json" }))
 *   .optimizer(sgd({ lr: 0.5 })).base(allReduce()).steps(2).compile();
 * const [comm] = createMemoryCommunicators(1);
 * const chain = createTrainingChain({
 *   plan,
 *   comm: comm!,
 *   x0: Float32Array.of(4),
 *   gradient: (x) => Promise.resolve({ loss: x[0]! ** 2 / 2, grad: Float32Array.of(x[0]!) }),
 * });
 * assert.deepEqual(await chain.step(0), { loss: 8, lr: 0.5, metrics: {} });
 * assert.deepEqual([...chain.model()], [2]);
 * ```
 */
export function createTrainingChain(options: ChainOptions): TrainingChain {
  const { plan, comm, x0, gradient } = options;
  const d = x0.length;
  const optimizer = createOptimizer(plan.optimizer, d);
  // CHOCO-SGD sends its codes to its neighbours itself (its public copies are the codec's
  // memory): it takes the codec from the plan, not the channel's compressed mean.
  const compressor = plan.compress === null ||
      baseTraits(plan.base).compresses === "publicDifference"
    ? null
    : createChannel(plan.compress, { d, steps: plan.steps, comm, seed: plan.seed });
  // Buffer policies act on the optimizer's and the base's momentum buffers; the base joins the
  // list once it exists (it needs the policy function to be built).
  const synced: Stateful[] = [optimizer];
  const syncBuffers: SyncBuffers = (policy, phase) =>
    applyBufferPolicy(policy, synced, comm, phase);
  const variables = options.variables ?? [d];
  const context: StepContext = { plan, comm, x0, syncBuffers, variables };
  // The outer's period: a base with a period of its own skips its averages at its multiples.
  // For streamingDiloco (whose tau must equal a localSgd base's period) that skips every base
  // average: the fragment syncs replace them.
  const outerTau = plan.outer?.tau ?? null;
  const base = createBase(plan.base, {
    ...context,
    optimizer,
    gradient,
    compressor,
    outerSyncsAt: (k) => outerTau !== null && endsPeriod(k, outerTau),
  });
  synced.push(base);
  const outer = plan.outer === null ? null : createOuter(plan.outer, context);
  const allBuffers = () => [
    ...optimizer.buffers(),
    ...base.buffers(),
    ...(compressor?.buffers() ?? []),
    ...(outer?.buffers() ?? []),
  ];
  return {
    async step(k) {
      const lr = learningRate(plan.optimizer.lr, k, plan.steps);
      const outcome = await base.step(k, lr);
      await outer?.afterStep(k, lr, base);
      return {
        loss: outcome.loss,
        lr,
        metrics: { ...outcome.metrics, ...compressor?.metrics(), ...outer?.metrics?.() },
      };
    },
    model: () => base.model(),
    buffers: allBuffers,
    joining: (joiners, donor) => base.joining?.(joiners, donor),
    finish: async () => {
      await base.finish?.();
      await outer?.finish?.();
    },
    async checkpoint() {
      await base.settle?.();
      await outer?.settle?.();
      return allBuffers();
    },
    restore(saved) {
      const live = allBuffers();
      const names = new Set(live.map((buffer) => buffer.name));
      const extra = [...saved.keys()].filter((name) => !names.has(name));
      if (extra.length > 0) {
        throw new Error(`the checkpoint holds buffers this plan has not: ${extra.join(", ")}`);
      }
      for (const buffer of live) {
        const data = saved.get(buffer.name);
        if (data === undefined) throw new Error(`the checkpoint has no buffer "${buffer.name}"`);
        if (data.length !== buffer.data.length || data.constructor !== buffer.data.constructor) {
          throw new Error(
            `the checkpoint's "${buffer.name}" has ${data.length} ${data.constructor.name} values where ${buffer.data.length} ${buffer.data.constructor.name} are needed`,
          );
        }
        buffer.data.set(data);
      }
      base.restored?.();
      outer?.restored?.();
    },
    inFlightSince() {
      const since = [base.inFlightSince?.() ?? null, outer?.inFlightSince?.() ?? null]
        .filter((step) => step !== null);
      return since.length === 0 ? null : Math.min(...since);
    },
    snapshot() {
      // Copies of their own type: float64 buffers (DiLoCo's) must come back exactly.
      const copy = new Map(allBuffers().map(({ name, data }) => [name, data.slice()]));
      const held = [base.hold?.(), outer?.hold?.()];
      return async () => {
        for (const settle of held) await settle?.(copy);
        return copy;
      };
    },
    parts: { optimizer, base, compressor, outer },
  };
}

/**
 * The state a worker joining an elastic run starts from, made from the donor's (its buffers by
 * name, after {@linkcode TrainingChain.joining} ran on the donor). Most bases take the donor's
 * state as it is (its model, its optimizer's buffers). `cada`'s joiner is a worker, not the
 * server: it takes the server's iterate, threshold history and snapshot, but none of the
 * server's own buffers, and starts with no uploads (`cada.uploaded` = 0, `cada.lastUpload` =
 * −1), so it uploads its full gradient at its first step, into the slot the server cleared.
 *
 * @param plan The plan.
 * @param rank The joining worker.
 * @param donor The donor's buffers, by name.
 * @returns The joiner's buffers, by name (fresh copies where changed).
 */
export function joinerBuffers(
  plan: Plan,
  rank: number,
  donor: ReadonlyMap<string, Float32Array | Float64Array>,
): Map<string, Float32Array | Float64Array> {
  const state = new Map(donor);
  if (plan.base.kind !== "cada" || rank === CADA_SERVER) return state;
  for (const name of CADA_SERVER_BUFFERS) state.delete(name);
  const uploaded = state.get("cada.uploaded");
  if (uploaded !== undefined) state.set("cada.uploaded", new Float64Array(uploaded.length));
  if (state.has("cada.lastUpload")) state.set("cada.lastUpload", Float64Array.of(-1));
  return state;
}
