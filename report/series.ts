/**
 * The curves of a run, computed from its metrics: training loss per step, evaluations of the
 * averaged model, and each worker's split of time, each placed on the three axes people compare
 * algorithms on: steps, bytes sent per worker, and time (simulated on the virtual clock, else
 * the workers' training time).
 *
 * @module
 */

import type { StepLine } from "../runtime/metrics.ts";
import { latestLines, leftWorkers, membersAt } from "./membership.ts";
import type { RunData } from "./run_data.ts";

/** One step, complete on every worker. */
export interface StepPoint {
  /** The step, from 0. */
  readonly step: number;
  /** Mean over live workers of the mini-batch loss, over a trailing window of steps. */
  readonly loss: number;
  /** Training bytes (phases base, outer, compressed) sent per worker so far, mean over workers. */
  readonly bytes: number;
  /** When the slowest worker finished the step, ms (simulated on the virtual clock). */
  readonly timeMs: number;
}

/** One evaluation of the averaged model, placed on the three axes. */
export interface EvalPoint {
  /** The step after which it ran. */
  readonly step: number;
  /** Test accuracy; `null` for regression. */
  readonly accuracy: number | null;
  /** Test loss. */
  readonly testLoss: number;
  /** Test bits per token (`testLoss / ln 2`) for language data, else `null`. */
  readonly bitsPerToken: number | null;
  /** Training bytes per worker up to that step. */
  readonly bytes: number;
  /** Time at that step, ms. */
  readonly timeMs: number;
  /** Mean over workers of `‖x_i − x̄‖₂`; `null` when the base averages exactly. */
  readonly consensus: number | null;
}

/** Where one worker's training time went. */
export interface WorkerTime {
  /** The worker's rank. */
  readonly worker: number;
  /** Computing: gradients, optimizer, encoding (everything but waiting on collectives). */
  readonly computeMs: number;
  /** Waiting on collectives: transfers and waiting for slower peers. */
  readonly commMs: number;
  /** The rest of its training time: evaluations, metrics, synchronisation outside steps. */
  readonly otherMs: number;
}

/** A run's curves. */
export interface RunSeries {
  /** Every step complete on every worker. */
  readonly steps: readonly StepPoint[];
  /** Every evaluation of the averaged model. */
  readonly evals: readonly EvalPoint[];
  /** Each worker's split of time. */
  readonly workers: readonly WorkerTime[];
  /** Whether times are simulated (virtual clock). */
  readonly virtual: boolean;
  /** Steps the training loss is averaged over. */
  readonly lossWindow: number;
}

/**
 * The trailing window the training loss is averaged over: about a hundredth of the run, so a
 * curve keeps its shape while the noise of single mini-batches is smoothed away.
 *
 * @param steps Steps of the run.
 * @returns The window, at least 1.
 */
export function lossWindowFor(steps: number): number {
  return Math.max(1, Math.round(steps / 100));
}

/** Training bytes of a line: what the algorithm sent, not evaluation or control traffic. */
function trainingBytes(line: StepLine): number {
  return line.bytesSent.base + line.bytesSent.outer + line.bytesSent.compressed;
}

/**
 * Computes a run's curves. Only steps every live worker has reported count (a running run's last
 * step may be partial). On elastic runs a step's loss is the mean over its live workers, and the
 * curves draw the attempt that stands ({@linkcode latestLines}), while bytes (per worker of the
 * plan) count every line written.
 *
 * @param run The run.
 * @param lossWindow Steps the training loss is averaged over (default {@linkcode lossWindowFor}).
 * @returns Its curves.
 * @example Two workers, two steps
 * ```ts
 * import assert from "node:assert/strict";
 * import { runSeries } from "./series.ts";
 * import type { RunData } from "./run_data.ts";
 *
 * const bytes = (base: number) => ({ base, outer: 0, compressed: 0, control: 7, state: 0 });
 * const step = (k: number, worker: number, loss: number, elapsedMs: number) => ({
 *   type: "step" as const, step: k, worker, loss, lr: 0.1, computeMs: 1, commMs: 1, elapsedMs,
 *   bytesSent: bytes(100), bytesReceived: bytes(100),
 * });
 * const run = {
 *   plan: { workers: 2, steps: 2 },
 *   steps: [step(0, 0, 4, 10), step(0, 1, 2, 12), step(1, 0, 2, 20), step(1, 1, 2, 25)],
 *   evals: [],
 * } as unknown as RunData;
 * const series = runSeries(run, 1);
 * assert.deepEqual(series.steps.map((point) => [point.loss, point.bytes, point.timeMs]), [
 *   [3, 100, 12],
 *   [2, 200, 25],
 * ]);
 * ```
 */
export function runSeries(run: RunData, lossWindow = lossWindowFor(run.plan.steps)): RunSeries {
  const n = run.plan.workers;
  const virtual = run.steps.some((line) => line.virtualMs !== undefined);
  const changes = run.membership ?? [];
  const latest = run.latest ?? latestLines([...run.steps, ...run.evals]);
  const byStep = new Map<number, StepLine[]>();
  for (const line of latest.steps) {
    const lines = byStep.get(line.step);
    if (lines === undefined) byStep.set(line.step, [line]);
    else lines.push(line);
  }
  // Bytes count every line, an abandoned attempt's too: they were sent all the same.
  const sentAt = new Map<number, number>();
  for (const line of run.steps) {
    sentAt.set(line.step, (sentAt.get(line.step) ?? 0) + trainingBytes(line));
  }
  const sentSteps = [...sentAt.keys()].sort((a, b) => a - b);
  let sentIndex = 0;
  const left = leftWorkers(changes);
  const steps: StepPoint[] = [];
  const losses: number[] = [];
  let bytes = 0;
  for (const step of [...byStep.keys()].sort((a, b) => a - b)) {
    const lines = byStep.get(step)!;
    // A step is complete once every worker still live has written it (a worker lost later may
    // have died before its last lines reached the coordinator).
    const reported = new Set(lines.map((line) => line.worker));
    const required = membersAt(n, changes, step).filter((worker) => !left.has(worker));
    if (!required.every((worker) => reported.has(worker))) break;
    while (sentIndex < sentSteps.length && sentSteps[sentIndex]! <= step) {
      bytes += sentAt.get(sentSteps[sentIndex++]!)! / n;
    }
    losses.push(lines.reduce((sum, line) => sum + line.loss, 0) / lines.length);
    const recent = losses.slice(-lossWindow);
    steps.push({
      step,
      loss: recent.reduce((a, b) => a + b, 0) / recent.length,
      bytes,
      timeMs: Math.max(...lines.map((line) => virtual ? line.virtualMs ?? 0 : line.elapsedMs)),
    });
  }
  const at = new Map(steps.map((point) => [point.step, point]));
  const evals: EvalPoint[] = [];
  for (const line of latest.evals) {
    if (line.model !== "average") continue;
    const point = at.get(line.step);
    if (point === undefined) continue;
    const distances = latest.evals.filter((other) =>
      other.model === "worker" && other.step === line.step &&
      other.distanceToAverage !== undefined
    ).map((other) => other.distanceToAverage!);
    evals.push({
      step: line.step,
      accuracy: line.testAccuracy,
      testLoss: line.testLoss,
      bitsPerToken: line.bitsPerToken ?? null,
      bytes: point.bytes,
      timeMs: point.timeMs,
      consensus: distances.length === 0
        ? null
        : distances.reduce((a, b) => a + b, 0) / distances.length,
    });
  }
  return { steps, evals, workers: workerTimes(run), virtual, lossWindow };
}

/** Each worker's compute, communication and other time over its whole training. */
function workerTimes(run: RunData): WorkerTime[] {
  return Array.from({ length: run.plan.workers }, (_, worker) => {
    const own = run.steps.filter((line) => line.worker === worker);
    const computeMs = own.reduce((sum, line) => sum + line.computeMs, 0);
    const commMs = own.reduce((sum, line) => sum + line.commMs, 0);
    const elapsed = own.at(-1)?.elapsedMs ?? 0;
    return { worker, computeMs, commMs, otherMs: Math.max(0, elapsed - computeMs - commMs) };
  });
}
