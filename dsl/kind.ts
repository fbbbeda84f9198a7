/**
 * What one DSL file declares about its kind besides the node type and the factory: the node's
 * schema, how the node is printed back as DSL, the checks the node makes against the rest of the
 * plan, and (per slot) the traits the validator, the plan explainer, the DSL's types and the
 * runtime read: which topology a base needs, what a compressor encodes and how many bytes it
 * writes, how much an outer loop sends.
 *
 * Each slot keeps a table of its kinds' definitions (`bases/mod.ts`, `compressors/mod.ts`, …),
 * typed as a mapped type over the slot's kind union, so a kind left out of a table, or a table row
 * for no kind, fails `deno check`. A definition is typed with its node type, so its schema must
 * produce that node's fields and its functions receive that node. `schema.ts`, `rules.ts`,
 * `traits.ts`, `shapes.ts`, `expression.ts` and `explain.ts` assemble the tables and name no kind
 * (but `sgd`, the optimizer that bases with a momentum of their own ask for).
 *
 * The types here take their node types as parameters and never name a slot's union, so a kind's
 * file can import them without an import circle.
 *
 * @module
 */

import type { TopologyNode } from "../topologies/types.ts";
import { deepFreeze } from "./_freeze.ts";
import { type OptionProblem, unknownOptions, withProblems } from "../strict_options.ts";

export type { AllKeys, OptionNames, OptionProblem } from "../strict_options.ts";

/** Any plan node: a plain object named by its `kind`. */
export interface AnyNode {
  /** The name of the DSL factory that builds it. */
  readonly kind: string;
}

/** What a data set feeds the model. */
export interface DataShape {
  /**
   * `"classification"` (class labels, softmax outputs), `"regression"` (real targets) or
   * `"language"` (token sequences, next-token prediction; see `../../shared/MODELS.md`).
   */
  readonly task: "classification" | "regression" | "language";
  /** Flat input features; `null` when only the data file knows (least squares). */
  readonly features: number | null;
  /**
   * Output classes (1 for regression; the vocabulary size for language data); `null` when only
   * the data file knows (`tensors` without `classes`).
   */
  readonly classes: number | null;
  /** `[height, width, channels]` for image data, else `null`. */
  readonly image: readonly [number, number, number] | null;
}

/** What a node's own checks may read about the rest of the plan. */
export interface PlanFacts {
  /** Workers. */
  readonly workers: number;
  /** Inner steps. */
  readonly steps: number;
  /** The data's kind (`"mnist"`), for messages. */
  readonly dataKind: string;
  /** The data's shape. */
  readonly data: DataShape;
  /** Model parameters `d`, or `null` when only a file or a module knows them. */
  readonly parameters: number | null;
  /** The model's context length in tokens (a transformer's `context`), `null` for models without. */
  readonly context: number | null;
  /**
   * The sizes of the model's variables (tensors) in the flat vector's order, or `null` when only
   * a file or a module knows them (a custom model).
   */
  readonly variables: readonly number[] | null;
}

/**
 * A problem a node has against the rest of the plan, its path relative to the node (`"k"`,
 * `"partition.classesPerWorker"`; empty for the node itself).
 */
export interface NodeIssue {
  /** Path inside the node. */
  readonly path: string;
  /** What is wrong, in a sentence. */
  readonly message: string;
  /** What would have been accepted. */
  readonly expected: string;
  /** The value found (shown as JSON). */
  readonly received: unknown;
}

/** How a node is printed back as the DSL call that builds it (`expression.ts`). */
export interface Form {
  /** The DSL factory (for topology bases, a call that passes `options.topology` first). */
  readonly make: (options: never) => object;
  /** Options the factory requires: always written, and passed when finding the defaults. */
  readonly required?: readonly string[];
  /** Options that change other options' defaults (mnist's partition, synthetic's task). */
  readonly context?: readonly string[];
  /** The node's fields as the factory's options, where they differ from the fields. */
  readonly options?: (node: never) => Readonly<Record<string, unknown>>;
}

/**
 * The form of a base written with its topology first: `dmSgd(ring, { beta: 0.8 })`.
 *
 * @param base The base's factory.
 * @returns Its form.
 */
export function onTopology(base: (topology: TopologyNode, options: never) => object): Form {
  return {
    make: (options: { readonly topology: TopologyNode }) =>
      base(options.topology, options as never),
    required: ["topology"],
  };
}

/**
 * A kind's schema: a valibot schema whose output is the node `N`. Only the output type is spelled
 * out (valibot's own `~types` field), so a definition's type checks its schema's fields against
 * the node's while the plan layer's public types do not expose valibot's.
 */
export interface NodeSchema<N> {
  /** The types valibot declares for the schema; the output is the node. */
  readonly "~types"?: { readonly output: N } | undefined;
}

/** What every kind declares, whatever its slot. */
export interface KindDefinition<N extends AnyNode> {
  /** The node's schema: its fields, their types and ranges (a strict object). */
  readonly schema: NodeSchema<N>;
  /** How the node is printed as DSL. */
  readonly form: Form;
  /** The node's checks against the rest of the plan (sizes, workers, steps); none by default. */
  readonly check?: (node: N, plan: PlanFacts) => NodeIssue[];
}

/** A model kind. */
export interface ModelDefinition<N extends AnyNode> extends KindDefinition<N> {
  /** The task the model solves, or `null` when the user's code decides (a custom model). */
  readonly task: DataShape["task"] | null;
  /** Parameters `d` on data of this shape, or `null` when only a module knows them. */
  readonly parameters: (node: N, data: DataShape) => number | null;
  /**
   * The sizes of the model's variables (its tensors) in the flat vector's order, summing to
   * `parameters`; `null` when only a module knows them (a custom model) or the data shape
   * leaves them open. Outer algorithms that work per variable (Streaming DiLoCo's fragments)
   * read them.
   */
  readonly variables: (node: N, data: DataShape) => readonly number[] | null;
  /**
   * Tokens the model reads per example, for models of token sequences (the transformer); language
   * data cuts its windows to this length. Absent for models without a context.
   */
  readonly context?: (node: N) => number;
}

/** A data kind. */
export interface DataDefinition<N extends AnyNode> extends KindDefinition<N> {
  /** What the data feeds the model. */
  readonly shape: (node: N) => DataShape;
}

/**
 * An optimizer kind. `M` is its `momentum` as a literal type, so the DSL's types can read it.
 */
export interface OptimizerDefinition<
  N extends AnyNode,
  M extends "always" | "field" = "always" | "field",
> extends KindDefinition<N> {
  /**
   * Whether the optimizer carries a momentum: `"always"` (Adam's moments), or `"field"` when its
   * `momentum` field says (a literal the DSL's types read, or a number the validator reads).
   */
  readonly momentum: M;
}

/**
 * What a base sends that a compressor can encode (docs/algorithms.md §3): the gradient
 * (`allReduce`), the model difference since the last synchronisation (`localSgd`), the model
 * itself (gossip family), or CHOCO-SGD's difference `x_i − x̂_i` between a model and its public
 * copy (`chocoGossip`, §1.9), sent to the neighbours by the codec alone: the public copies are its
 * memory, so the compressor's own error feedback must be off.
 */
export type Payload = "gradient" | "modelDifference" | "model" | "publicDifference";

/** What a base's traffic formula needs. */
export interface TrafficContext {
  /** Model parameters. */
  readonly d: number;
  /** Workers. */
  readonly n: number;
  /** Bytes each worker sends for one compressed exchange of `d` values, when a compressor is set. */
  readonly compressedExchange: number | null;
  /** Bytes of one code of `d` values (the codec's `wireBytes`), when a compressor is set. */
  readonly compressedCode: number | null;
  /** The outer algorithm's period, when one is set. */
  readonly outerTau: number | null;
}

/** Mean bytes a worker sends per step in the base's phases. */
export interface BaseTraffic {
  /** Uncompressed traffic of the base (phase `base`). */
  readonly base: number;
  /** Compressed codes (phase `compressed`). */
  readonly compressed: number;
  /** A remark on the estimate, when it is a bound rather than an expectation. */
  readonly note?: string;
}

/**
 * A base kind: how workers combine their progress every step. `Owns` is `ownsMomentum` as a
 * literal type, so the DSL's types can read it.
 */
export interface BaseDefinition<N extends AnyNode, Owns extends boolean = boolean>
  extends KindDefinition<N> {
  /**
   * The mixing matrices the base's topology must have: doubly stochastic (gossip family),
   * column-stochastic with a positive diagonal (push-sum), or `null` for bases without one.
   */
  readonly topology: "doublyStochastic" | "columnStochastic" | null;
  /** Workers hold different models between synchronisations: each one's own is evaluated too. */
  readonly decentralized: boolean;
  /**
   * The base carries a momentum of its own (`beta`), so the optimizer must not add one; the
   * DSL's types read this literal to reject `sgd` with momentum at compile time.
   */
  readonly ownsMomentum: Owns;
  /** Why the optimizer must be plain SGD without momentum, or `null` when any optimizer fits. */
  readonly plainSgd: string | null;
  /** Whether an outer algorithm (slowMo, bmuf, diloco, sparseLoco) may wrap the base. */
  readonly acceptsOuter: boolean;
  /** What a compressor would encode, or `null` when the base takes no compressor. */
  readonly compresses: Payload | null;
  /** The name shown when the update divides by `γ_k` (so it must stay positive), else `null`. */
  readonly dividesByLr: (node: N) => string | null;
  /**
   * Steps between exact averages of all workers without an outer algorithm (`null`: never); an
   * outer period must be a multiple of it.
   */
  readonly syncPeriod: (node: N) => number | null;
  /** Mean bytes a worker sends per step (payload of the collectives, no frame headers). */
  readonly traffic: (node: N, context: TrafficContext) => BaseTraffic;
}

/** A compressor kind: what a base sends, encoded in fewer bytes. */
export interface CompressorDefinition<N extends AnyNode> extends KindDefinition<N> {
  /** The payloads it can encode; the bases that send one of them accept it. */
  readonly compresses: readonly Payload[];
  /**
   * Codes can be summed before decoding (a count sketch): aggregated by all-reduce. Otherwise
   * every rank's code is all-gathered and decoded in rank order.
   */
  readonly linear: boolean;
  /** Why the optimizer must be plain SGD without momentum, or `null`. */
  readonly plainSgd: string | null;
  /**
   * Whether the codec is wrapped in error feedback (`e += p; send C(e); e −= C(e)`,
   * docs/algorithms.md §3.4), so what is not sent now is sent later.
   */
  readonly errorFeedback: (node: N) => boolean;
  /**
   * Bytes of one encoded vector of `d` values, exactly as the codec writes them (for DQ-SGD,
   * whose width changes per step, the mean at the budget).
   */
  readonly wireBytes: (node: N, d: number) => number;
  /** Bytes a worker sends for one compressed exchange of `d` values among `n` workers. */
  readonly exchangeBytes: (node: N, d: number, n: number) => number;
  /**
   * `true` when the compressor applies the learning rate itself and hands the base the model
   * update (FetchSGD, §3.5): the optimizer is bypassed, so its `clipNorm` is refused.
   */
  readonly returnsUpdate?: boolean;
}

/** An outer kind: a slow update every `tau` steps, wrapped around a base. */
export interface OuterDefinition<N extends AnyNode> extends KindDefinition<N> {
  /** The name shown when the outer step divides by `γ_k`, else `null`. */
  readonly dividesByLr: (node: N) => string | null;
  /**
   * Mean bytes a worker sends per step in the outer phase, for `d` parameters and `n` workers;
   * `variables` are the model's variable sizes in order (`[d]` when unknown).
   */
  readonly traffic: (node: N, d: number, n: number, variables: readonly number[]) => number;
  /**
   * The most bytes a worker sends in any single outer synchronisation, for outers whose syncs
   * differ in size (Streaming DiLoCo's fragments); absent when every sync sends the same.
   */
  readonly peakSyncBytes?: (node: N, n: number, variables: readonly number[]) => number;
  /**
   * Why a base with a period of its own (local SGD) must synchronise exactly as often as the
   * outer (its every average is then skipped: the outer's syncs replace them), or absent when
   * a base period dividing `tau` is enough.
   */
  readonly replacesBaseSync?: string;
  /**
   * How the workers come to agree, in words, for `gossamer plan`, when it is not an exact
   * average of the whole model every `tau` steps (fragments in turn, sparse quantized codes).
   */
  readonly synchronisation?: (node: N) => string;
}

/**
 * Builds a frozen node from a factory's options: the node's fields as the factory computed them,
 * and the options the factory does not know noted on it, reported when the plan compiles.
 *
 * @param fields The node.
 * @param options The options the factory received.
 * @param names The option names the factory knows.
 * @param problems Other problems the factory found (a text value it could not read).
 * @returns The frozen node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildNode } from "./kind.ts";
 * const node = buildNode({ kind: "topK", k: 4 }, { k: 4 }, { k: true });
 * assert.ok(Object.isFrozen(node) && node.k === 4);
 * ```
 */
export function buildNode<N extends object>(
  fields: N,
  options: object | undefined,
  names: Readonly<Record<string, true>>,
  problems: readonly (OptionProblem | null)[] = [],
): N {
  const found = [
    ...unknownOptions(options, names),
    ...problems.filter((problem) => problem !== null),
  ];
  return deepFreeze(withProblems(fields, found));
}
