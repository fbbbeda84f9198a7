/**
 * Aggregates the metrics stream of a run into what the progress bar and the summary need:
 * latest step, mean recent loss, latest averaged-model evaluation, bytes per worker per phase.
 *
 * @module
 */

import { type PhaseBytes, PHASES, totalBytes, zeroBytes } from "../../dsl/traffic.ts";
import type { MetricsLine, StepLine } from "../metrics.ts";
import type { MembershipChange, Progress, UploadSummary } from "../run_types.ts";

/** The latest evaluation of the averaged model. */
export interface FinalEvaluation {
  readonly step: number;
  readonly testLoss: number;
  readonly testAccuracy: number | null;
  /** Language data only: bits per token of the test loss. */
  readonly bitsPerToken?: number;
  /** Language data only: perplexity of the test loss. */
  readonly perplexity?: number;
}

/** Running totals of a run's metrics. */
export class RunTotals {
  readonly sent: PhaseBytes[];
  readonly received: PhaseBytes[];
  readonly #lastStep: number[];
  /** By worker, the newest step reported to `onProgress`. */
  readonly #reported: number[];
  readonly #lossAtStep = new Map<number, { sum: number; count: number }>();
  readonly #membership: MembershipChange[] = [];
  #live: number;
  readonly #gone = new Set<number>();
  #completeLoss: number | null = null;
  #evaluation: FinalEvaluation | null = null;
  #virtualMs: number | null = null;
  #peakSyncBytes: number | null = null;
  readonly #uploads: number[];
  #uploadDecisions = 0;
  readonly #staleness = new Map<number, number>();
  readonly #start = performance.now();

  /**
   * @param workers Number of workers.
   * @param steps Steps in the plan.
   */
  constructor(readonly workers: number, readonly steps: number) {
    this.sent = Array.from({ length: workers }, zeroBytes);
    this.received = Array.from({ length: workers }, zeroBytes);
    this.#lastStep = new Array(workers).fill(-1);
    this.#reported = new Array(workers).fill(-1);
    this.#live = workers;
    this.#uploads = new Array(workers).fill(0);
  }

  /** Adds one metrics line. */
  add(line: MetricsLine): void {
    if (line.type === "membership") {
      const { step, left, members, reason, detail, joined } = line;
      this.#membership.push({
        step,
        left,
        members,
        reason,
        ...(detail === undefined ? {} : { detail }),
        ...(joined === undefined ? {} : { joined }),
      });
      this.#live = members.length;
      for (const rank of joined ?? []) this.#gone.delete(rank);
      // The survivors redo the steps from `step` on: losses of the abandoned attempt are dropped.
      for (const at of this.#lossAtStep.keys()) if (at >= step) this.#lossAtStep.delete(at);
      // A lost worker's steps no longer hold back the progress.
      for (const rank of left) this.#gone.add(rank);
      return;
    }
    if (line.type !== "eval") {
      for (const phase of PHASES) {
        this.sent[line.worker]![phase] += line.bytesSent[phase];
        this.received[line.worker]![phase] += line.bytesReceived[phase];
      }
    }
    if (line.type === "step") {
      this.#lastStep[line.worker] = line.step;
      if (line.virtualMs !== undefined) {
        this.#virtualMs = Math.max(this.#virtualMs ?? 0, line.virtualMs);
      }
      const syncBytes = line.algorithm?.syncBytes;
      if (typeof syncBytes === "number") {
        this.#peakSyncBytes = Math.max(this.#peakSyncBytes ?? 0, syncBytes);
      }
      const uploaded = line.algorithm?.uploaded;
      if (typeof uploaded === "boolean") {
        this.#uploadDecisions++;
        if (uploaded) this.#uploads[line.worker]!++;
        const age = line.algorithm?.staleness;
        if (typeof age === "number") this.#staleness.set(age, (this.#staleness.get(age) ?? 0) + 1);
      }
      const entry = this.#lossAtStep.get(line.step) ?? { sum: 0, count: 0 };
      entry.sum += line.loss;
      entry.count++;
      if (entry.count >= this.#live) {
        this.#completeLoss = entry.sum / entry.count;
        this.#lossAtStep.delete(line.step);
      } else {
        this.#lossAtStep.set(line.step, entry);
      }
    } else if (line.type === "eval" && line.model === "average") {
      const { step, testLoss, testAccuracy, bitsPerToken, perplexity } = line;
      this.#evaluation = {
        step,
        testLoss,
        testAccuracy,
        ...(bitsPerToken === undefined ? {} : { bitsPerToken }),
        ...(perplexity === undefined ? {} : { perplexity }),
      };
    }
  }

  /** The latest evaluation of the averaged model. */
  get evaluation(): FinalEvaluation | null {
    return this.#evaluation;
  }

  /**
   * The most bytes one worker wrote for a single outer sync, from the steps whose metrics say
   * (`algorithm.syncBytes`, Streaming DiLoCo's fragment syncs); `null` when no step did.
   */
  get peakSyncBytes(): number | null {
    return this.#peakSyncBytes;
  }

  /** The latest simulated time any worker reported (virtual clock only), in ms. */
  get virtualMs(): number | null {
    return this.#virtualMs;
  }

  /**
   * Uploads sent and skipped, from the steps whose metrics say whether the worker uploaded
   * (`algorithm.uploaded`); `null` when no step did.
   */
  get uploads(): UploadSummary | null {
    if (this.#uploadDecisions === 0) return null;
    const sent = this.#uploads.reduce((sum, count) => sum + count, 0);
    const possible = this.#uploadDecisions;
    const ages = [...this.#staleness.keys()].sort((a, b) => a - b);
    return {
      perWorker: [...this.#uploads],
      possible,
      skipRate: 1 - sent / possible,
      roundsSaved: possible - sent,
      staleness: Object.fromEntries(ages.map((age) => [String(age), this.#staleness.get(age)!])),
    };
  }

  /** The membership changes of an elastic run so far, in order. */
  get membership(): readonly MembershipChange[] {
    return this.#membership;
  }

  /** The steps a worker's metrics say it did: its newest step line's step, plus one. */
  stepsDone(worker: number): number {
    return (this.#lastStep[worker] ?? -1) + 1;
  }

  /**
   * Adds one metrics line and says whether it reports a worker's step for the first time: the
   * step lines `onProgress` is called for, once per step per worker.
   *
   * @param line The metrics line.
   * @returns Whether `line` is a step line of a step its worker had not reported yet.
   */
  addReported(line: MetricsLine): boolean {
    this.add(line);
    if (line.type !== "step") return false;
    const reported = this.#reported[line.worker] ?? -1;
    if (line.step <= reported) return false;
    this.#reported[line.worker] = line.step;
    return true;
  }

  /**
   * The progress snapshot after `line`, a worker's step line.
   *
   * @param line The step line the snapshot reports.
   * @returns The snapshot.
   */
  progress(line: StepLine): Progress {
    const step = Math.min(...this.#lastStep.filter((_, rank) => !this.#gone.has(rank))) + 1;
    const elapsedMs = performance.now() - this.#start;
    const total = this.sent.reduce((sum, bytes) => sum + totalBytes(bytes), 0);
    return {
      worker: line.worker,
      workerStep: line.step + 1,
      simulatedMs: line.virtualMs ?? null,
      step,
      steps: this.steps,
      loss: this.#completeLoss,
      accuracy: this.#evaluation?.testAccuracy ?? null,
      bytesPerWorker: total / this.workers,
      elapsedMs,
      etaMs: step > 0 ? elapsedMs / step * (this.steps - step) : null,
    };
  }
}
