/**
 * The fluent pipeline builder. `train(model)` returns an immutable {@linkcode Pipeline}: every
 * method returns a new pipeline around a new frozen spec, so a half-built pipeline can be
 * branched and reused. `compile()` fills defaults, validates and returns a frozen {@linkcode Plan}.
 *
 * The builder's type parameters record which slots are set and with what, so shape errors are
 * compile-time errors: `compile()` before `.base()`, or momentum in `sgd` with `dmSgd`.
 *
 * @module
 */

import { deepFreeze, toPlainData } from "./_freeze.ts";
import type {
  BaseNode,
  CompressorNode,
  DataNode,
  ModelNode,
  NetworkNode,
  OptimizerNode,
  OuterNode,
  Plan,
} from "./plan.ts";
import { PLAN_VERSION } from "./plan.ts";
import type { MomentumBaseKind } from "./bases/mod.ts";
import type { MomentumOptimizerKind } from "./optimizers/mod.ts";
import { parseCompiledPlan } from "./validate.ts";
import { optionProblems } from "../strict_options.ts";
import { type ElasticOptions, type ElasticSpec, elasticSpec } from "./elastic.ts";

/** Default number of inner steps. */
export const DEFAULT_STEPS = 100;

/** What the builder has collected so far. */
interface PipelineSpec {
  readonly model: ModelNode;
  readonly data?: DataNode;
  readonly workers?: number;
  readonly optimizer?: OptimizerNode;
  readonly base?: BaseNode;
  readonly compress?: CompressorNode;
  readonly outer?: OuterNode;
  readonly network?: NetworkNode;
  readonly elastic?: ElasticSpec;
  readonly steps?: number;
  readonly evalEvery?: number;
  readonly seed?: number;
}

/**
 * True when an optimizer type certainly carries momentum: its kind always does (Adam), or its
 * `momentum` field is a non-zero literal (`sgd({ momentum: 0.9 })`).
 */
export type CarriesMomentum<O> = O extends { readonly kind: MomentumOptimizerKind } ? true
  : O extends { readonly momentum: infer M extends number }
    ? number extends M ? false : M extends 0 ? false : true
  : false;

/**
 * `unknown` when optimizer `O` and base `B` fit together, else a message type that makes the
 * argument fail to type-check with the reason in the error.
 */
export type OptimizerBaseConflict<O, B> = B extends
  { readonly kind: infer K extends MomentumBaseKind }
  ? CarriesMomentum<O> extends true ? `${K} carries its own momentum: use sgd without momentum`
  : unknown
  : unknown;

/** The slots still missing before `compile()` is allowed. */
export type MissingSlots<D extends boolean, O, B> =
  | (D extends true ? never : "data")
  | (O extends undefined ? "optimizer" : never)
  | (B extends undefined ? "base" : never);

/**
 * `compile()`'s parameters: none when the pipeline is complete, else one impossible argument
 * whose type names the missing slots.
 */
export type CompileArgs<D extends boolean, O, B> = [MissingSlots<D, O, B>] extends [never] ? []
  : [missing: `call .${MissingSlots<D, O, B>}() before compile()`];

/**
 * An immutable training pipeline under construction.
 *
 * @typeParam D Whether `.data()` was called.
 * @typeParam O The optimizer node type, or `undefined`.
 * @typeParam B The base node type, or `undefined`.
 */
export class Pipeline<
  D extends boolean = boolean,
  O extends OptimizerNode | undefined = OptimizerNode | undefined,
  B extends BaseNode | undefined = BaseNode | undefined,
> {
  /** The slots as given: the factories' nodes, with what they did not understand noted on them. */
  readonly #given: PipelineSpec;
  /** The slots as plain data. */
  readonly #spec: PipelineSpec;

  /**
   * Wraps the slots collected so far; {@linkcode train} is the usual way to start a pipeline.
   *
   * @param spec The slots collected so far (copied and frozen; the nodes themselves are read,
   *   never changed).
   */
  constructor(spec: PipelineSpec) {
    this.#given = { ...spec };
    // A copy, so the caller's own node objects are neither shared nor frozen.
    this.#spec = deepFreeze(toPlainData(spec));
  }

  /** Returns a new pipeline with some slots replaced. */
  #with<D2 extends boolean, O2 extends OptimizerNode | undefined, B2 extends BaseNode | undefined>(
    patch: Partial<PipelineSpec>,
  ): Pipeline<D2, O2, B2> {
    return new Pipeline<D2, O2, B2>({ ...this.#given, ...patch });
  }

  /**
   * Sets the data set.
   * @param data A data node: `mnist()`, `synthetic()`, `leastSquares({ file })`.
   * @returns A new pipeline.
   */
  data(data: DataNode): Pipeline<true, O, B> {
    return this.#with({ data });
  }

  /**
   * Sets the number of workers (default 1).
   * @param n Number of workers.
   * @returns A new pipeline.
   */
  workers(n: number): Pipeline<D, O, B> {
    return this.#with({ workers: n });
  }

  /**
   * Sets the local optimizer.
   * @param optimizer `sgd({ … })`, `adam({ … })` or `adamw({ … })`.
   * @returns A new pipeline.
   */
  optimizer<NO extends OptimizerNode>(
    optimizer: NO & OptimizerBaseConflict<NO, B>,
  ): Pipeline<D, NO, B> {
    return this.#with({ optimizer });
  }

  /**
   * Sets the base algorithm.
   * @param base `allReduce()`, `localSgd()`, `gossip(ring)`, `sgp()`, `dmSgd()`, `decentLaM()`,
   *   `overlapLocalSgd()`, `cada()` or `chocoGossip(ring, { gamma })`.
   * @returns A new pipeline.
   */
  base<NB extends BaseNode>(base: NB & OptimizerBaseConflict<O, NB>): Pipeline<D, O, NB> {
    return this.#with({ base });
  }

  /**
   * Sets the compressor applied to what the base sends.
   * @param compressor `qsgd()`, `dqSgd()`, `sketchedSgd()`, `fetchSgd()` or `topK()`.
   * @returns A new pipeline.
   */
  compress(compressor: CompressorNode): Pipeline<D, O, B> {
    return this.#with({ compress: compressor });
  }

  /**
   * Sets the outer algorithm wrapped around the base.
   * @param outer `slowMo({ … })`, `bmuf({ … })`, `diloco({ … })`, `streamingDiloco({ … })` or
   *   `sparseLoco({ … })`.
   * @returns A new pipeline.
   */
  outer(outer: OuterNode): Pipeline<D, O, B> {
    return this.#with({ outer });
  }

  /**
   * Sets the emulated network.
   * @param network `network({ bandwidth, latency, jitter, stragglers })`.
   * @returns A new pipeline.
   */
  network(network: NetworkNode): Pipeline<D, O, B> {
    return this.#with({ network });
  }

  /**
   * Makes the run elastic: it goes on while at least `minWorkers` workers are live, up to
   * `maxWorkers` (default: the worker count) may be live at once, a restarted worker rejoins at
   * the next synchronisation point unless `rejoin` is false, and a lost worker's shard is dropped
   * (`reshard: "drop"`, the default) or spread over the survivors (`"spread"`). Needed by
   * `network({ failures })`, whose declared leaves run on the memory transport; over TCP a worker
   * that dies or is cut off leaves, and a restarted one joins again.
   * @param options `{ minWorkers, maxWorkers?, rejoin?, reshard? }`.
   * @returns A new pipeline.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { allReduce, logistic, sgd, synthetic, train } from "../mod.ts";
   * const plan = train(logistic()).data(synthetic()).workers(4).optimizer(sgd({ lr: 0.1 }))
   *   .base(allReduce()).elastic({ minWorkers: 3, maxWorkers: 6 }).compile();
   * assert.deepEqual(plan.elastic, { minWorkers: 3, maxWorkers: 6, rejoin: true, reshard: "drop" });
   * ```
   */
  elastic(options: ElasticOptions): Pipeline<D, O, B> {
    return this.#with({ elastic: elasticSpec(options) });
  }

  /**
   * Sets the number of inner steps (default 100).
   * @param k Steps.
   * @returns A new pipeline.
   */
  steps(k: number): Pipeline<D, O, B> {
    return this.#with({ steps: k });
  }

  /**
   * Sets how often the averaged model is evaluated (default a tenth of the steps).
   * @param k Steps between evaluations.
   * @returns A new pipeline.
   */
  evalEvery(k: number): Pipeline<D, O, B> {
    return this.#with({ evalEvery: k });
  }

  /**
   * Sets the seed of everything random: initial model, data split, sampling, quantization.
   * @param s A non-negative 32-bit integer (default 0).
   * @returns A new pipeline.
   */
  seed(s: number): Pipeline<D, O, B> {
    return this.#with({ seed: s });
  }

  /**
   * Fills defaults, validates every slot and cross-slot rule, and returns the frozen plan. An
   * option a factory did not know (`sgd({ momentun: 0.9 })`) or a value it could not read
   * (`network({ bandwidth: "100 Mbps" })`) is an issue too, at its path in the DSL's words.
   * @returns A versioned, frozen, JSON-only plan.
   * @throws {PlanError} Listing every issue when the plan is invalid.
   */
  compile(..._ready: CompileArgs<D, O, B>): Plan {
    const spec = this.#spec;
    const steps = spec.steps ?? DEFAULT_STEPS;
    const workers = spec.workers ?? 1;
    const elastic = spec.elastic;
    const plan = {
      version: PLAN_VERSION,
      model: spec.model,
      data: spec.data ?? null,
      workers,
      optimizer: spec.optimizer ?? null,
      base: spec.base ?? null,
      compress: spec.compress ?? null,
      outer: spec.outer ?? null,
      network: spec.network ?? null,
      elastic: elastic === undefined
        ? null
        : { ...elastic, maxWorkers: elastic.maxWorkers ?? workers },
      steps,
      evalEvery: spec.evalEvery ?? Math.max(1, Math.round(steps / 10)),
      seed: spec.seed ?? 0,
    };
    return deepFreeze(parseCompiledPlan(toPlainData(plan), optionProblems(this.#given)));
  }
}

/**
 * Starts a training pipeline for a model.
 *
 * @param model A model node: `linear()`, `logistic()`, `mlp()`, `cnn()` or `custom()`.
 * @returns An empty pipeline; set `.data()`, `.optimizer()` and `.base()` before `.compile()`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allReduce, mlp, mnist, sgd, train } from "../mod.ts";
 * const plan = train(mlp({ hidden: [64] }))
 *   .data(mnist())
 *   .workers(4)
 *   .optimizer(sgd({ lr: 0.1 }))
 *   .base(allReduce())
 *   .steps(200)
 *   .compile();
 * assert.ok(plan.workers === 4 && Object.isFrozen(plan));
 * ```
 */
export function train(model: ModelNode): Pipeline<false, undefined, undefined> {
  return new Pipeline({ model });
}

/**
 * Whether a value is a pipeline builder (from this or another copy of gossamer), as opposed to
 * a plan.
 *
 * @param value Anything, e.g. a pipeline module's default export.
 * @returns True for an object with a `compile` method.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPipeline } from "./train.ts";
 * assert.ok(!isPipeline({ version: 1 }));
 * ```
 */
export function isPipeline(value: unknown): value is { compile(): Plan } {
  return typeof value === "object" && value !== null &&
    typeof (value as { compile?: unknown }).compile === "function";
}
