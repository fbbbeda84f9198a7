/**
 * The training algorithms of the runtime (docs/algorithms.md §0.1, §1, §2 and §4): local
 * optimizers and buffer policies, the base and outer algorithms, the registry that maps every
 * base and outer kind of the plan format to its implementation ({@linkcode BASES},
 * {@linkcode OUTERS}: the compiler holds them to the plan's unions, so they name every
 * algorithm there is), and the step driver that chains them.
 *
 * Each algorithm is a factory from its plan node and a context (communicator, `x_0`, optimizer,
 * gradient oracle, compressor) to an object with explicit, named state, in a file of its own;
 * its math is a pure function over flat vectors beside it, unit-tested without communication.
 * The rules exported here (for example `gossipUpdate`, `slowMoUpdate`, `sgdDirection`) let you
 * check a rule by hand or drive a step outside the runtime.
 *
 * @example One SlowMo outer update by hand
 * ```ts
 * import assert from "node:assert/strict";
 * import { slowMoUpdate } from "./mod.ts";
 *
 * const next = slowMoUpdate(
 *   { anchor: Float64Array.of(1), momentum: Float64Array.of(0) },
 *   Float32Array.of(0.5),
 *   0.1,
 *   { alpha: 1, beta: 0.5 },
 * );
 * assert.ok(Math.abs(next.anchor[0]! - 0.5) < 1e-12);
 * ```
 *
 * @module
 */

export type {
  BaseAlgorithm,
  BaseContext,
  BaseFactory,
  GradientOracle,
  GradientResult,
  LocalOptimizer,
  ModelHolder,
  OuterAlgorithm,
  OuterFactory,
  SettleInto,
  StateBuffer,
  Stateful,
  StepContext,
  StepOutcome,
  SyncBuffers,
} from "./types.ts";
export {
  adamDirection,
  type AdamMoments,
  type AdamSettings,
  adamwDirection,
  type AdamwSettings,
  applyBufferPolicy,
  clipByNorm,
  createOptimizer,
  sgdDirection,
  type SgdSettings,
} from "./optimizers.ts";
export { allReduceBase } from "./all_reduce.ts";
export { localSgdBase } from "./local_sgd.ts";
export { gossipBase, gossipUpdate } from "./gossip.ts";
export {
  exchangeWithNeighbours,
  neighborsByStep,
  receivedFrom,
  type WeightedModel,
} from "./neighbours.ts";
export {
  deBiased,
  pushSumCombine,
  pushSumMessage,
  type PushSumShares,
  pushSumShares,
  sgpBase,
} from "./sgp.ts";
export {
  chocoConsensus,
  chocoGossipBase,
  type DifferenceCode,
  differenceCode,
} from "./choco_gossip.ts";
export { slowMoOuter, type SlowMoState, slowMoUpdate } from "./slow_mo.ts";
export { bmufOuter, type BmufSettings, type BmufState, bmufUpdate } from "./bmuf.ts";
export { dilocoOuter, type DilocoState, dilocoUpdate } from "./diloco.ts";
export {
  chunkTopK,
  levelValue,
  nearestLevel,
  type SparseLocoCodec,
  sparseLocoCodec,
  type SparseLocoCodecSettings,
  sparseLocoOuter,
} from "./sparse_loco.ts";
export {
  decodePseudoGradient,
  encodePseudoGradient,
  fragmentCoordinates,
  streamingDilocoOuter,
  syncingFragment,
} from "./streaming_diloco.ts";
export { BASES, createBase, createOuter, OUTERS } from "./registry.ts";
export {
  type ChainOptions,
  type ChainParts,
  createTrainingChain,
  type StepResult,
  type TrainingChain,
} from "./chain.ts";
