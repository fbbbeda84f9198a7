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
  /** Line type, the discriminant of {@linkcode MetricsLine}. */
  readonly type: "step";
  /** The step, from 0. */
  readonly step: number;
  /** The worker's rank. */
  readonly worker: number;
  /** Training loss on this worker's mini-batch of the step. */
  readonly loss: number;
  /** Learning rate `γ_k` of the step. */
  readonly lr: number;
  /** Wall time of the step minus the time spent awaiting communication. */
  readonly computeMs: number;
  /** Time spent awaiting communication during the step. */
  readonly commMs: number;
  /** Time since training started on this worker. */
  readonly elapsedMs: number;
  /** Bytes written since the worker's previous line, per phase, frame headers included. */
  readonly bytesSent: PhaseBytes;
  /** Bytes read since the worker's previous line, per phase, frame headers included. */
  readonly bytesReceived: PhaseBytes;
  /** Resident memory of the process, sampled every 50 steps and at the last step. */
  readonly rssBytes?: number;
  /** Live JavaScript heap, sampled with `rssBytes`. */
  readonly heapBytes?: number;
  /** Live TensorFlow.js tensors, to catch leaks. */
  readonly tensors?: number;
  /** Bytes of the live TensorFlow.js tensors' data, sampled with `rssBytes`. */
  readonly tensorBytes?: number;
  /**
   * On the WASM backend: the size of the WebAssembly heap (which only grows: the most the
   * tensors of a step ever needed at once, plus slack), sampled with `rssBytes`.
   */
  readonly wasmBytes?: number;
  /** The algorithm's own per-step metrics, when it reports any. */
  readonly algorithm?: StepMetrics;
  /** On the virtual clock: the worker's simulated time at the end of the step, in ms. */
  readonly virtualMs?: number;
}

/** A test-set evaluation: of the averaged model (rank 0), or of one worker's own model. */
export interface EvalLine {
  /** Line type, the discriminant of {@linkcode MetricsLine}. */
  readonly type: "eval";
  /** The step after which the evaluation ran, from 0. */
  readonly step: number;
  /** `"average"`: the mean of all workers' models; `"worker"`: the model of `worker` alone. */
  readonly model: "average" | "worker";
  /** The worker whose model was evaluated; `null` for the average. */
  readonly worker: number | null;
  /** Mean loss over the test set. */
  readonly testLoss: number;
  /** `null` for regression; next-token accuracy for language data. */
  readonly testAccuracy: number | null;
  /** Language data only: `testLoss / ln 2`, bits per token (per byte under the byte tokenizer). */
  readonly bitsPerToken?: number;
  /** Language data only: `exp(testLoss)`. */
  readonly perplexity?: number;
  /**
   * On a worker's own line (decentralized bases): `‖x_i − x̄‖₂`, its model's distance to the
   * workers' average, whose mean over workers is the consensus distance.
   */
  readonly distanceToAverage?: number;
}

/** What language-model evaluations report beside the loss in nats per token. */
export interface LanguageMetrics {
  /** `loss / ln 2`: bits per token (per byte under the byte tokenizer). */
  readonly bitsPerToken: number;
  /** `exp(loss)`. */
  readonly perplexity: number;
}

/**
 * Bits per token and perplexity of a mean next-token cross-entropy in nats.
 *
 * @param loss Mean cross-entropy in nats per token.
 * @returns `loss / ln 2` and `exp(loss)`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { languageMetrics } from "./metrics.ts";
 * // A uniform guess over 256 bytes: 8 bits per byte, perplexity 256.
 * const uniform = languageMetrics(Math.log(256));
 * assert.ok(Math.abs(uniform.bitsPerToken - 8) < 1e-12 && Math.abs(uniform.perplexity - 256) < 1e-9);
 * ```
 */
export function languageMetrics(loss: number): LanguageMetrics {
  return { bitsPerToken: loss / Math.LN2, perplexity: Math.exp(loss) };
}

/** Bytes that belong to no step: evaluation's all-reduce and the final barrier. */
export interface TrafficLine {
  /** Line type, the discriminant of {@linkcode MetricsLine}. */
  readonly type: "traffic";
  /** The step the traffic follows: an evaluated step, or the last step for the final barrier. */
  readonly step: number;
  /** The worker's rank. */
  readonly worker: number;
  /** Bytes written since the worker's previous line, per phase, frame headers included. */
  readonly bytesSent: PhaseBytes;
  /** Bytes read since the worker's previous line, per phase, frame headers included. */
  readonly bytesReceived: PhaseBytes;
}

/**
 * A change of an elastic run's membership, written once before the first step synchronised over
 * the new members: by the lowest-ranked survivor for a declared leave, by the coordinator for a
 * loss. After a loss the survivors redo the steps from `step` on, so lines of those steps written
 * before this line belong to the abandoned attempt (their bytes were sent all the same).
 */
export interface MembershipLine {
  /** Line type, the discriminant of {@linkcode MetricsLine}. */
  readonly type: "membership";
  /** The index (from 0) of the first step over the new members: the plan's `leaveAt − 1`. */
  readonly step: number;
  /** The worker that wrote the line (the lowest-ranked survivor). */
  readonly worker: number;
  /** The workers that left before this step. */
  readonly left: readonly number[];
  /** The live workers from this step on, ascending. */
  readonly members: readonly number[];
  /**
   * Why: `"declared"`, a leave declared in `network({ failures })` (memory transport);
   * `"lost"`, a worker of a TCP run that died or could not be reached; `"joined"`, a worker
   * that came back (`joined`) and nobody left.
   */
  readonly reason: "declared" | "lost" | "joined";
  /** For a loss: what the coordinator saw, naming the worker. */
  readonly detail?: string;
  /** The workers that joined (again) at this step, with the state of a live worker. */
  readonly joined?: readonly number[];
}

/** Any line of `metrics.jsonl`. */
export type MetricsLine = StepLine | EvalLine | TrafficLine | MembershipLine;
