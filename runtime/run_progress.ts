/**
 * Aggregates the metrics stream of a run into what the progress bar and the summary need:
 * latest step, mean recent loss, latest averaged-model evaluation, bytes per worker per phase.
 *
 * @module
 */

import { type PhaseBytes, PHASES } from "./comm/types.ts";
import type { MetricsLine } from "./worker_loop.ts";

/** A snapshot for the progress display. */
export interface Progress {
  /** Steps completed by every worker. */
  readonly step: number;
  readonly steps: number;
  /** Mean training loss over workers at the latest complete step. */
  readonly loss: number | null;
  /** Latest test accuracy of the averaged model. */
  readonly accuracy: number | null;
  /** Mean bytes sent per worker so far (all phases). */
  readonly bytesPerWorker: number;
  readonly elapsedMs: number;
  /** Estimated time left, from the pace so far. */
  readonly etaMs: number | null;
}

/** The latest evaluation of the averaged model. */
export interface FinalEvaluation {
  readonly step: number;
  readonly testLoss: number;
  readonly testAccuracy: number | null;
}

/** Zeroed per-phase counters. */
export function zeroBytes(): PhaseBytes {
  return { base: 0, outer: 0, compressed: 0, control: 0 };
}

/** Running totals of a run's metrics. */
export class RunTotals {
  readonly sent: PhaseBytes[];
  readonly received: PhaseBytes[];
  readonly #lastStep: number[];
  readonly #lossAtStep = new Map<number, { sum: number; count: number }>();
  #completeLoss: number | null = null;
  #evaluation: FinalEvaluation | null = null;
  readonly #start = performance.now();

  /**
   * @param workers Number of workers.
   * @param steps Steps in the plan.
   */
  constructor(readonly workers: number, readonly steps: number) {
    this.sent = Array.from({ length: workers }, zeroBytes);
    this.received = Array.from({ length: workers }, zeroBytes);
    this.#lastStep = new Array(workers).fill(-1);
  }

  /** Adds one metrics line. */
  add(line: MetricsLine): void {
    if (line.bytesSent !== undefined) {
      const worker = line.worker as number;
      for (const phase of PHASES) {
        this.sent[worker]![phase] += (line.bytesSent as PhaseBytes)[phase];
        this.received[worker]![phase] += (line.bytesReceived as PhaseBytes)[phase];
      }
    }
    if (line.type === "step") {
      const worker = line.worker as number;
      const step = line.step as number;
      this.#lastStep[worker] = step;
      const entry = this.#lossAtStep.get(step) ?? { sum: 0, count: 0 };
      entry.sum += line.loss as number;
      entry.count++;
      if (entry.count === this.workers) {
        this.#completeLoss = entry.sum / entry.count;
        this.#lossAtStep.delete(step);
      } else {
        this.#lossAtStep.set(step, entry);
      }
    } else if (line.type === "eval" && line.model === "average") {
      this.#evaluation = {
        step: line.step as number,
        testLoss: line.testLoss as number,
        testAccuracy: line.testAccuracy as number | null,
      };
    }
  }

  /** The latest evaluation of the averaged model. */
  get evaluation(): FinalEvaluation | null {
    return this.#evaluation;
  }

  /** The progress snapshot. */
  progress(): Progress {
    const step = Math.min(...this.#lastStep) + 1;
    const elapsedMs = performance.now() - this.#start;
    const total = this.sent.reduce(
      (sum, bytes) => sum + PHASES.reduce((s, phase) => s + bytes[phase], 0),
      0,
    );
    return {
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
