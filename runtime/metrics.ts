/**
 * The lines of a run's `metrics.jsonl`, as the worker writes them and the coordinator reads
 * them: one typed union, so the writer, the control channel, the run totals and the tests agree
 * on every field.
 *
 * Every line that carries bytes carries the traffic since the worker's previous line, so a
 * worker's lines add up to every byte it wrote and read.
 *
 * @module
 */

import type { PhaseBytes } from "../dsl/traffic.ts";

/**
 * What an algorithm reports about one step beyond the loss (the residual norm of error
 * feedback, the bits a dynamic quantizer chose, whether an upload was skipped), keyed by a
 * short name. Empty for most algorithms.
 */
export type StepMetrics = Readonly<Record<string, number | boolean>>;

/** One worker's training step. */
export interface StepLine {
  readonly type: "step";
  readonly step: number;
  readonly worker: number;
  readonly loss: number;
  readonly lr: number;
  /** Wall time of the step minus the time spent awaiting communication. */
  readonly computeMs: number;
  /** Time spent awaiting communication during the step. */
  readonly commMs: number;
  /** Time since training started on this worker. */
  readonly elapsedMs: number;
  readonly bytesSent: PhaseBytes;
  readonly bytesReceived: PhaseBytes;
  /** Resident memory of the process, sampled every 50 steps and at the last step. */
  readonly rssBytes?: number;
  /** Live JavaScript heap, sampled with `rssBytes`. */
  readonly heapBytes?: number;
  /** Live TensorFlow.js tensors, to catch leaks. */
  readonly tensors?: number;
  /** The algorithm's own per-step metrics, when it reports any. */
  readonly algorithm?: StepMetrics;
}

/** A test-set evaluation: of the averaged model (rank 0), or of one worker's own model. */
export interface EvalLine {
  readonly type: "eval";
  readonly step: number;
  readonly model: "average" | "worker";
  /** The worker whose model was evaluated; `null` for the average. */
  readonly worker: number | null;
  readonly testLoss: number;
  /** `null` for regression. */
  readonly testAccuracy: number | null;
}

/** Bytes that belong to no step: evaluation's all-reduce and the final barrier. */
export interface TrafficLine {
  readonly type: "traffic";
  readonly step: number;
  readonly worker: number;
  readonly bytesSent: PhaseBytes;
  readonly bytesReceived: PhaseBytes;
}

/** Any line of `metrics.jsonl`. */
export type MetricsLine = StepLine | EvalLine | TrafficLine;
