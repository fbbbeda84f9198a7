/**
 * gossamer: communication-efficient distributed training as typed, composable code.
 *
 * Write a pipeline with the fluent DSL, compile it to a validated, serialisable plan, and train
 * it with {@linkcode run} (or the `gossamer` command line), which writes a run folder of
 * metrics, summary and parameters.
 *
 * This entry point holds what a pipeline author uses: the builder and a factory for every slot,
 * the topologies, validation and explanation of plans, and running them. More specialised parts
 * have entry points of their own: `@gossamer/gossamer/plan` (the whole plan layer: node types,
 * traits of each algorithm, shapes, schedules), `/topologies` (mixing matrices, spectral gaps,
 * drawings), `/runtime` (embedding workers, run-folder types), `/comm` (transports and
 * collectives), `/algorithms` (the update rules as pure functions) and `/compressors` (codecs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gossip, mlp, mnist, ring, sgd, slowMo, train } from "./mod.ts";
 *
 * const plan = train(mlp({ hidden: [128] }))
 *   .data(mnist({ partition: "dirichlet", alpha: 0.5 }))
 *   .workers(8)
 *   .optimizer(sgd({ lr: 0.1 }))
 *   .base(gossip(ring))
 *   .outer(slowMo({ beta: 0.7, tau: 12 }))
 *   .steps(600)
 *   .compile();
 * assert.ok(plan.base.kind === "gossip");
 * ```
 *
 * @module
 */

// The builder.
export { type Pipeline, train } from "./dsl/train.ts";

// One factory per node of every slot, and their option types.
export {
  cnn,
  type CnnOptions,
  custom,
  type CustomModelOptions,
  linear,
  type LinearOptions,
  logistic,
  type LogisticOptions,
  mlp,
  type MlpOptions,
  transformer,
  type TransformerOptions,
} from "./dsl/models/mod.ts";
export {
  leastSquares,
  type LeastSquaresOptions,
  mnist,
  type MnistOptions,
  synthetic,
  type SyntheticOptions,
  tensors,
  type TensorsOptions,
  text,
  type TextOptions,
} from "./dsl/data/mod.ts";
export { cosine, learningRate, stepDecay, warmup } from "./dsl/schedules.ts";
export {
  adam,
  type AdamOptions,
  adamw,
  type AdamwOptions,
  sgd,
  type SgdOptions,
} from "./dsl/optimizers/mod.ts";
export {
  allReduce,
  cada,
  type CadaOptions,
  chocoGossip,
  type ChocoGossipOptions,
  decentLaM,
  dmSgd,
  gossip,
  localSgd,
  overlapLocalSgd,
  sgp,
} from "./dsl/bases/mod.ts";
export {
  dqSgd,
  fetchSgd,
  qsgd,
  type QsgdOptions,
  sketchedSgd,
  topK,
} from "./dsl/compressors/mod.ts";
export { bmuf, diloco, slowMo, sparseLoco, streamingDiloco } from "./dsl/outers/mod.ts";
export {
  type Bandwidth,
  type BandwidthUnit,
  type Duration,
  network,
  type NetworkOptions,
  type TimeUnit,
} from "./dsl/network.ts";
export type {
  ElasticOptions,
  FailureOptions,
  LeaveOptions,
  MembershipSpan,
  RandomLeaveOptions,
} from "./dsl/elastic.ts";

// Topologies, usable bare or called: `gossip(ring)`, `gossip(torus({ rows: 4, cols: 4 }))`.
export {
  complete,
  exponential,
  fetchPreset,
  fromFile,
  onePeerExponential,
  ring,
  star,
  TopologyFileError,
  type TopologyInput,
  type TopologyNode,
  torus,
} from "./topologies/mod.ts";

// The plan: its types, validation and explanation.
export type {
  AdamNode,
  BaseNode,
  BmufNode,
  BufferPolicy,
  CadaNode,
  CnnNode,
  CompressorNode,
  CustomModelNode,
  DataNode,
  DecentLaMNode,
  DmSgdNode,
  DqSgdNode,
  ElasticNode,
  FailureNode,
  GossipNode,
  LeastSquaresNode,
  LeaveNode,
  LinearNode,
  LocalSgdNode,
  LogisticNode,
  MlpNode,
  MnistNode,
  ModelNode,
  NetworkNode,
  OptimizerNode,
  OuterNode,
  OverlapLocalSgdNode,
  Plan,
  QsgdNode,
  RandomLeaveNode,
  Reshard,
  ScheduleNode,
  SgdNode,
  SgpNode,
  SketchedSgdNode,
  SlowMoNode,
  SyntheticNode,
  TensorsNode,
  TextNode,
  TopKNode,
  TransformerNode,
} from "./dsl/plan.ts";
export { PLAN_VERSION } from "./dsl/plan.ts";
export {
  formatIssues,
  parsePlan,
  PlanError,
  type PlanIssue,
  validatePlan,
} from "./dsl/validate.ts";
export { type ElasticExplanation, explainPlan, type PlanExplanation } from "./dsl/explain.ts";
export { planExpression, planImports } from "./dsl/expression.ts";
export { type Phase, type PhaseBytes, totalBytes } from "./dsl/traffic.ts";

// Running plans.
export {
  type CheckpointSummary,
  loadPlan,
  PlanLoadError,
  type Progress,
  type ResumableCheckpoint,
  resume,
  type ResumeOptions,
  run,
  RunError,
  type RunOptions,
  type RunParams,
  type RunResult,
  type RunSummary,
  type UploadSummary,
  type WorkerBytes,
} from "./runtime/mod.ts";

// Reading a run folder back, for analysis in a script or notebook.
export {
  type EvalLine,
  type MembershipLine,
  type MetricsLine,
  type StepLine,
  type TrafficLine,
} from "./runtime/mod.ts";
export {
  parseMetrics,
  readRun,
  type RunData,
  RunDataError,
  type RunRecord,
} from "./report/run_data.ts";
