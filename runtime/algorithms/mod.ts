/**
 * The training algorithms of the runtime (ALGORITHMS.md §0.1, §1.1–1.4, §2.1–2.2): local
 * optimizers and buffer policies, the base algorithms (`allReduce`, `localSgd`, `gossip`,
 * `sgp`), the outer algorithms (`slowMo`, `bmuf`) and the registry that maps a plan's node
 * kinds to them.
 *
 * Each algorithm is a factory from a {@linkcode BaseContext} (plan, rank, communicator, `x_0`,
 * optimizer, gradient oracle) to an object with explicit state; its math is a pure function
 * over flat vectors exported beside it (`gossipUpdate`, `pushSumCombine`, `slowMoUpdate`,
 * `bmufUpdate`, `sgdDirection`, `adamDirection`) and unit-tested without communication.
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
  OuterAlgorithm,
  OuterFactory,
} from "./types.ts";
export {
  adamDirection,
  type AdamMoments,
  type AdamSettings,
  applyBufferPolicy,
  createOptimizer,
  sgdDirection,
  type SgdSettings,
} from "./optimizers.ts";
export { allReduceBase } from "./all_reduce.ts";
export { localSgdBase } from "./local_sgd.ts";
export {
  gossipBase,
  gossipUpdate,
  neighborsByStep,
  receivedFrom,
  type WeightedModel,
} from "./gossip.ts";
export {
  deBiased,
  pushSumCombine,
  pushSumMessage,
  type PushSumShares,
  pushSumShares,
  sgpBase,
} from "./sgp.ts";
export { slowMoOuter, type SlowMoState, slowMoUpdate } from "./slow_mo.ts";
export { bmufOuter, type BmufSettings, type BmufState, bmufUpdate } from "./bmuf.ts";
export { BASES, createBase, createOuter, OUTERS } from "./registry.ts";
