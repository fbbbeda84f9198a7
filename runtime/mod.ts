/**
 * The runtime: runs a compiled plan on workers and writes its run folder.
 *
 * Most users need only {@linkcode run} and {@linkcode loadPlan}, which the package root
 * re-exports. This entry point adds what embedding the runtime needs: {@linkcode runWorker} to
 * join a run from a launcher of your own, the run folder's types (`summary.json`, the lines of
 * `metrics.jsonl`) and {@linkcode meanBytesSent}.
 *
 * @example Run a plan in this thread and read its summary
 * ```ts
 * import assert from "node:assert/strict";
 * import { run } from "./mod.ts";
 * import { allReduce, leastSquares, linear, sgd, train } from "../mod.ts";
 *
 * const plan = train(linear({ dim: 3 }))
 *   .data(leastSquares({ file: new URL("../examples/data/least_squares_4.json", import.meta.url) }))
 *   .workers(4)
 *   .optimizer(sgd({ lr: 0.05 }))
 *   .base(allReduce())
 *   .steps(5)
 *   .compile();
 * const out = await Deno.makeTempDir();
 * const { summary } = await run(plan, { transport: "memory", out: `${out}/run` });
 * assert.ok(summary.status === "completed");
 * await Deno.remove(out, { recursive: true });
 * ```
 *
 * @module
 */

export { run } from "./coordinator/run.ts";
export { resume, type ResumeOptions, type Resuming } from "./coordinator/resume.ts";
export {
  type Checkpoint,
  CheckpointError,
  listCheckpoints,
  readCheckpoint,
  type RunHow,
} from "./coordinator/checkpoints.ts";
export {
  decodeSafetensors,
  encodeSafetensors,
  type Safetensors,
  SafetensorsError,
  type Tensor,
} from "./safetensors.ts";
export type { WorkerState } from "./worker_state.ts";
export { loadPlan, PlanLoadError } from "./load_plan.ts";
export type { ModulePolicy } from "./module_refs.ts";
export {
  runWorker,
  WorkerError,
  type WorkerLaunch,
  type WorkerReports,
} from "./worker/worker_main.ts";
export type { BackendRequest, WebGpuProbe } from "./backend.ts";
export {
  type CheckpointSummary,
  type LostWorkerRecord,
  meanBytesSent,
  type MembershipChange,
  type Progress,
  type ResumableCheckpoint,
  type ResumePoint,
  RunError,
  type RunErrorOptions,
  type RunOptions,
  type RunParams,
  type RunResult,
  type RunSummary,
  type UploadSummary,
  type WorkerBytes,
} from "./run_types.ts";
export type {
  EvalLine,
  MembershipLine,
  MetricsLine,
  StepLine,
  StepMetrics,
  TrafficLine,
} from "./metrics.ts";
export type { TextSample } from "./models/sample_text.ts";
