/**
 * The execution plan: the versioned, JSON-only tree of nodes that the DSL compiles to and the
 * runtime executes. One union per slot, each assembled by its slot's folder (`bases/mod.ts`, …)
 * from one file per kind; each node's `kind` is the name of the DSL factory that builds it
 * (`"slowMo"`, `"gossip"`), so a plan file reads like the pipeline that made it. This module
 * gathers the node types in one place.
 *
 * A few fields accept `null` meaning "derived from the rest of the plan" (a logistic model's
 * input size from the data, BMUF's block momentum from the worker count, a cosine schedule's
 * length from `steps`). Those derivations are pure functions in this folder, so the plan stays
 * exactly what the user wrote plus explicit defaults.
 *
 * @module
 */

import type { TopologyNode } from "../topologies/types.ts";
import type { BaseNode } from "./bases/mod.ts";
import type { CompressorNode } from "./compressors/mod.ts";
import type { DataNode } from "./data/mod.ts";
import type { ModelNode } from "./models/mod.ts";
import type { NetworkNode } from "./network.ts";
import type { ElasticNode } from "./elastic.ts";
import type { OptimizerNode } from "./optimizers/mod.ts";
import type { OuterNode } from "./outers/mod.ts";

export type { TopologyNode };
export type * from "./bases/mod.ts";
export type * from "./compressors/mod.ts";
export type * from "./data/mod.ts";
export type * from "./models/mod.ts";
export type * from "./optimizers/mod.ts";
export type * from "./outers/mod.ts";
export type { LinkNode, NetworkNode, StragglersNode } from "./network.ts";
export type { ElasticNode, FailureNode, LeaveNode, RandomLeaveNode, Reshard } from "./elastic.ts";
export type {
  ConstantSchedule,
  CosineSchedule,
  ScheduleNode,
  StepDecaySchedule,
  WarmupSchedule,
} from "./schedules.ts";
export type { Activation, BufferPolicy } from "./fields.ts";

/** Version of the plan format; bumped whenever a plan's meaning changes. */
export const PLAN_VERSION = 1;

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
  /**
   * Elastic training (`.elastic(…)`): how far the membership may shrink and grow while the run
   * goes on; `null` (and absent from plans written before it existed) when a lost worker ends
   * the run. `run()` runs declared leaves and random churn on the memory transport, and over TCP
   * a worker that dies or is cut off leaves and a restarted one joins again
   * (`runtime/worker/membership.ts` says what it refuses).
   */
  readonly elastic: ElasticNode | null;
  /** Inner steps per worker. */
  readonly steps: number;
  /** Steps between evaluations of the averaged model; the last step is always evaluated. */
  readonly evalEvery: number;
  /** Seed of everything random (model, data split, sampling, quantization), in `[0, 2^32)`. */
  readonly seed: number;
}
