/**
 * One worker's training loop, the same whatever the transport: broadcast `x_0` from rank 0,
 * then for every step sample the batch, run the base algorithm's step and the outer
 * algorithm, and emit a metrics line; evaluate every `evalEvery` steps and after the last.
 *
 * @module
 */

import type { Plan } from "../dsl/plan.ts";
import { learningRate } from "../dsl/schedules.ts";
import { createOptimizer } from "./algorithms/optimizers.ts";
import { createBase, createOuter } from "./algorithms/registry.ts";
import type { Batch, TrainableModel, WorkerData } from "./models/types.ts";
import { type Communicator, type PhaseBytes, PHASES, type TrafficStats } from "./comm/types.ts";
import { timeCommunicator } from "./timed_communicator.ts";
import { zeroBytes } from "./run_progress.ts";

/** A metrics line, written as one JSON object per line of `metrics.jsonl`. */
export type MetricsLine = Record<string, unknown>;

/** What a worker loop needs. */
export interface WorkerLoopOptions {
  readonly plan: Plan;
  readonly comm: Communicator;
  readonly model: TrainableModel;
  readonly data: WorkerData;
  /** Receives every metrics line as it is produced. */
  readonly emit: (line: MetricsLine) => void;
  /** The live TensorFlow.js tensor count, recorded per step to catch leaks. */
  readonly tensorCount?: () => number;
  /** Stops the loop before the next step when aborted (its reason is thrown). */
  readonly signal?: AbortSignal;
}

/** A worker's loss became NaN or infinite: the run must stop. */
export class DivergenceError extends Error {
  /**
   * @param rank The worker.
   * @param step The step.
   * @param loss The loss value.
   */
  constructor(readonly rank: number, readonly step: number, readonly loss: number) {
    super(`Worker ${rank}: training loss is ${loss} at step ${step}`);
    this.name = "DivergenceError";
  }
}

/** Steps between memory samples in the step lines (a sample costs ~0.1 ms). */
const MEMORY_EVERY = 50;

/**
 * The process's resident memory and live JavaScript heap. When V8 exposes `gc` (the memory
 * benchmark runs workers with `DENO_V8_FLAGS=--expose-gc`), a full collection runs first, so
 * growth between samples is memory still referenced, not garbage waiting for a collection.
 */
function memorySample(): { rssBytes: number; heapBytes: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = Deno.memoryUsage();
  return { rssBytes: usage.rss, heapBytes: usage.heapUsed };
}

/** Bases whose workers hold different models between synchronisations. */
const DECENTRALIZED = new Set(["gossip", "sgp", "dmSgd", "decentLaM"]);

/** Per-phase difference of two byte counters. */
function delta(after: PhaseBytes, before: PhaseBytes): PhaseBytes {
  const result = {} as Record<string, number>;
  for (const phase of PHASES) result[phase] = after[phase] - before[phase];
  return result as PhaseBytes;
}

/** A copy of the counters (transports may return live objects). */
function snapshot(stats: TrafficStats): TrafficStats {
  return { sent: { ...stats.sent }, received: { ...stats.received } };
}

/**
 * Evaluates the averaged model (on rank 0) and, for decentralized bases, each worker's own.
 * The average is an exact all-reduce counted as `control` traffic.
 */
async function evaluate(
  options: WorkerLoopOptions,
  step: number,
  own: Float32Array,
  test: Batch,
  takeBytes: () => { bytesSent: PhaseBytes; bytesReceived: PhaseBytes },
): Promise<void> {
  const { plan, comm, model, emit } = options;
  const average = await comm.allReduceMean(own, "control");
  emit({ type: "traffic", step, worker: comm.rank, ...takeBytes() });
  if (comm.rank === 0) {
    const result = await model.evaluate(average, test);
    emit({
      type: "eval",
      step,
      model: "average",
      worker: null,
      testLoss: result.loss,
      testAccuracy: result.accuracy,
    });
  }
  if (DECENTRALIZED.has(plan.base.kind)) {
    const result = await model.evaluate(own, test);
    emit({
      type: "eval",
      step,
      model: "worker",
      worker: comm.rank,
      testLoss: result.loss,
      testAccuracy: result.accuracy,
    });
  }
}

/**
 * Runs one worker from `x_0` to the last step.
 *
 * @param options Plan, communicator, model, data and metrics sink.
 * @returns The worker's final reported model (the de-biased `z_i` for sgp).
 * @throws {DivergenceError} When the loss becomes NaN or infinite.
 */
export async function runWorkerLoop(options: WorkerLoopOptions): Promise<Float32Array> {
  const { plan, model, data, emit } = options;
  const comm = timeCommunicator(options.comm);
  const rank = comm.rank;
  const d = model.parameterCount;
  // Every line carries the traffic since the previous line, so the lines add up to every
  // byte of the run: step 0 includes the broadcast of x_0 (and anything a fast peer sent
  // before this worker started), evaluation lines their all-reduce. Received bytes are
  // counted when they arrive, so they may land in the line of the step before they are used.
  let counted: TrafficStats = { sent: zeroBytes(), received: zeroBytes() };
  const takeBytes = () => {
    const now = snapshot(comm.stats());
    const bytes = {
      bytesSent: delta(now.sent, counted.sent),
      bytesReceived: delta(now.received, counted.received),
    };
    counted = now;
    return bytes;
  };
  const initial = rank === 0 ? model.initialParameters(plan.seed) : new Float32Array(d);
  const x0 = await comm.broadcast(initial, 0, "control");
  let batch = data.batch(0);
  const context = {
    plan,
    rank,
    comm,
    x0,
    optimizer: createOptimizer(plan.optimizer, d),
    gradient: (params: Float32Array) => model.gradient(params, batch),
  };
  const base = createBase(context);
  const outer = plan.outer === null ? null : createOuter(context);
  comm.takeWaitMs();
  const trainingStart = performance.now();
  for (let k = 0; k < plan.steps; k++) {
    options.signal?.throwIfAborted();
    const lr = learningRate(plan.optimizer.lr, k, plan.steps);
    const start = performance.now();
    batch = data.batch(k);
    const { loss } = await base.step(k, lr);
    if (outer !== null) await outer.afterStep(k, lr, base);
    const wallMs = performance.now() - start;
    const commMs = comm.takeWaitMs();
    if (!Number.isFinite(loss)) throw new DivergenceError(rank, k, loss);
    emit({
      type: "step",
      step: k,
      worker: rank,
      loss,
      lr,
      computeMs: wallMs - commMs,
      commMs,
      elapsedMs: performance.now() - trainingStart,
      ...(k % MEMORY_EVERY === 0 || k === plan.steps - 1 ? memorySample() : {}),
      ...takeBytes(),
      ...(options.tensorCount === undefined ? {} : { tensors: options.tensorCount() }),
    });
    const last = k === plan.steps - 1;
    if ((k + 1) % plan.evalEvery === 0 || last) {
      if (last) await base.finish?.();
      await evaluate({ ...options, comm }, k, base.model(), data.test, takeBytes);
      comm.takeWaitMs();
    }
  }
  // Nobody leaves while a peer may still wait on it; the barrier's bytes go in a last traffic
  // line, so the lines add up to every byte this worker sent and received.
  await comm.barrier();
  emit({ type: "traffic", step: plan.steps - 1, worker: rank, ...takeBytes() });
  return base.model();
}
