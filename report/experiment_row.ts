/**
 * One row of an experiment's comparison, computed from a run's metrics and summary: accuracy,
 * training bytes per worker per step, time, time to a target accuracy, consensus distance, and
 * uploads (for algorithms that skip some) with the uploads it took to reach a target training
 * loss. The expectations of an experiment (`expect.ts`) are checked against these rows.
 *
 * @module
 */

import type { EvalLine, MetricsLine, StepLine } from "../runtime/metrics.ts";
import type { RunSummary } from "../runtime/run_types.ts";

/** Default trailing window of the training loss, in steps. */
export const LOSS_WINDOW = 20;

/** One run's numbers in the experiment's table. */
export interface ExperimentRow {
  readonly name: string;
  readonly algorithm: string;
  readonly finalAccuracy: number | null;
  /** Language models: validation bits per token of the final averaged model; else `null`. */
  readonly finalBitsPerToken: number | null;
  readonly bestAccuracy: number | null;
  /** Mean bytes a worker sent per step for training (phases base, outer, compressed). */
  readonly trainingBytesPerStep: number;
  /** Simulated time of the run (virtual clock), else the slowest worker's training time, ms. */
  readonly timeMs: number;
  /** When the averaged model first reached the target accuracy, ms; `null`: never or no target. */
  readonly timeToTargetMs: number | null;
  /**
   * Language models: when the averaged model's validation bits per token first fell to the
   * target, ms; `null`: never, or no target.
   */
  readonly timeToTargetBitsMs: number | null;
  /** Bytes a worker sent for training over the whole run (phases base, outer, compressed). */
  readonly trainingBytes: number;
  /**
   * The most bytes one worker wrote for a single outer synchronisation, where the run reports
   * its syncs (Streaming DiLoCo, SparseLoCo); else `null`.
   */
  readonly peakSyncBytes: number | null;
  /** Mean over workers of `‖x_i − x̄‖₂` at the last evaluation; `null` for exact averaging. */
  readonly consensusDistance: number | null;
  /**
   * Uploads all workers sent: counted per step where the algorithm decides (`cada`), else one
   * per worker per step, as distributed SGD or Adam sends.
   */
  readonly uploads: number;
  /** The share of possible uploads skipped. */
  readonly skipRate: number;
  /**
   * Uploads sent up to the first step whose training loss (mean over workers and over a
   * trailing window of steps) reached the target loss; `null`: never, or no target.
   */
  readonly uploadsToTargetLoss: number | null;
}

/** Options of {@linkcode experimentRow}. */
export interface RowTargets {
  /** The accuracy to time. */
  readonly target: number | null;
  /** The training loss to count uploads to. */
  readonly targetLoss?: number | null;
  /** The validation bits per token to time (language models). */
  readonly targetBits?: number | null;
  /** Steps the training loss is averaged over. */
  readonly lossWindow?: number;
}

/**
 * Per step: the uploads sent so far by all workers, and the training loss averaged over
 * workers and over the trailing `window` steps.
 */
function lossAndUploads(
  steps: readonly StepLine[],
  workers: number,
  window: number,
): { uploads: number; loss: number }[] {
  const byStep = new Map<number, StepLine[]>();
  for (const line of steps) byStep.set(line.step, [...byStep.get(line.step) ?? [], line]);
  const out: { uploads: number; loss: number }[] = [];
  const losses: number[] = [];
  let uploads = 0;
  for (const step of [...byStep.keys()].sort((a, b) => a - b)) {
    const lines = byStep.get(step)!;
    if (lines.length < workers) break;
    for (const line of lines) {
      const uploaded = line.algorithm?.uploaded;
      if (uploaded !== false) uploads++;
    }
    losses.push(lines.reduce((sum, line) => sum + line.loss, 0) / lines.length);
    const recent = losses.slice(-window);
    out.push({ uploads, loss: recent.reduce((a, b) => a + b, 0) / recent.length });
  }
  return out;
}

/**
 * Computes a run's row from its metrics lines and summary.
 *
 * @param name The pipeline's name.
 * @param lines Every line of the run's `metrics.jsonl`.
 * @param summary The run's `summary.json`.
 * @param targets The accuracy to time and the training loss to count uploads to, if any.
 * @returns The row.
 */
export function experimentRow(
  name: string,
  lines: readonly MetricsLine[],
  summary: RunSummary,
  targets: RowTargets,
): ExperimentRow {
  const { target, targetLoss = null, targetBits = null, lossWindow = LOSS_WINDOW } = targets;
  const steps = lines.filter((line): line is StepLine => line.type === "step");
  const evals = lines.filter((line): line is EvalLine => line.type === "eval");
  const averages = evals.filter((line) => line.model === "average");
  const virtual = summary.virtualTimeMs !== null;
  /** The time the slowest worker finished step `k`. */
  const timeAt = (k: number) =>
    Math.max(
      ...steps.filter((line) => line.step === k).map((line) =>
        virtual ? line.virtualMs ?? 0 : line.elapsedMs
      ),
    );
  const accuracies = averages.map((line) => line.testAccuracy ?? Number.NaN);
  const reached = target === null
    ? undefined
    : averages.find((line) => (line.testAccuracy ?? -1) >= target);
  const reachedBits = targetBits === null
    ? undefined
    : averages.find((line) => (line.bitsPerToken ?? Infinity) <= targetBits);
  const lastEval = evals.at(-1)?.step;
  const distances = evals.filter((line) =>
    line.model === "worker" && line.step === lastEval && line.distanceToAverage !== undefined
  ).map((line) => line.distanceToAverage!);
  const progress = lossAndUploads(steps, summary.workers, lossWindow);
  const lossReached = targetLoss === null
    ? undefined
    : progress.find((point) => point.loss <= targetLoss);
  const possible = summary.workers * summary.steps;
  const uploads = summary.uploads === null ? possible : possible - summary.uploads.roundsSaved;
  const training = summary.bytes.reduce(
    (sum, worker) => sum + worker.sent.base + worker.sent.outer + worker.sent.compressed,
    0,
  );
  return {
    name,
    algorithm: `${summary.algorithm} ×${summary.workers}`,
    finalAccuracy: summary.final?.testAccuracy ?? null,
    finalBitsPerToken: summary.final?.bitsPerToken ?? null,
    bestAccuracy: accuracies.length === 0 ? null : Math.max(...accuracies),
    trainingBytesPerStep: training / Math.max(1, summary.workers) / summary.steps,
    trainingBytes: training / Math.max(1, summary.workers),
    peakSyncBytes: summary.peakSyncBytes ?? null,
    timeMs: virtual ? summary.virtualTimeMs! : timeAt(summary.steps - 1),
    timeToTargetMs: reached === undefined ? null : timeAt(reached.step),
    timeToTargetBitsMs: reachedBits === undefined ? null : timeAt(reachedBits.step),
    consensusDistance: distances.length === 0
      ? null
      : distances.reduce((a, b) => a + b, 0) / distances.length,
    uploads,
    skipRate: summary.uploads?.skipRate ?? 0,
    uploadsToTargetLoss: lossReached?.uploads ?? null,
  };
}
