/**
 * The comparison table of runs: one row per run with what decides between algorithms: final
 * and best accuracy, steps, bytes each worker sent by phase, time, and the time and bytes it
 * took to reach a target accuracy. Rendered for the terminal, as CSV, and in the HTML report.
 *
 * @module
 */

import { algorithmKinds } from "../dsl/explain.ts";
import { type PhaseBytes, PHASES, zeroBytes } from "../dsl/traffic.ts";
import { formatBytes, table } from "./format.ts";
import type { RunData, RunStatus } from "./run_data.ts";
import { runSeries } from "./series.ts";

/** One run's numbers. */
export interface CompareRow {
  /** The run folder's name. */
  readonly name: string;
  /** Base, compressor and outer kinds, e.g. `"localSgd + slowMo"`. */
  readonly algorithm: string;
  /** Number of workers. */
  readonly workers: number;
  /** Finished, failed, or still running. */
  readonly status: RunStatus;
  /** Steps every worker completed. */
  readonly stepsRun: number;
  /** Steps in the plan. */
  readonly steps: number;
  /** Accuracy of the averaged model at the last evaluation; `null` without one (or regression). */
  readonly finalAccuracy: number | null;
  /** Best accuracy of the averaged model over the evaluations. */
  readonly bestAccuracy: number | null;
  /** Test loss at the last evaluation. */
  readonly finalTestLoss: number | null;
  /** Test bits per token at the last evaluation, for language data; else `null`. */
  readonly finalBitsPerToken: number | null;
  /** Bytes each worker sent, per phase, mean over workers, frame headers included. */
  readonly bytesPerWorker: PhaseBytes;
  /** `"simulated"` on the virtual clock, else `"training"` (the slowest worker's). */
  readonly clock: "simulated" | "training";
  /** Time of the last completed step, ms, on that clock. */
  readonly timeMs: number;
  /** Wall time of the whole run on the coordinator (start-up included); `null` while running. */
  readonly wallTimeMs: number | null;
  /** When the averaged model first reached the target accuracy, ms; `null`: never, or no target. */
  readonly timeToTargetMs: number | null;
  /** Training bytes per worker sent until then; `null` likewise. */
  readonly bytesToTarget: number | null;
  /**
   * The most bytes a worker wrote for one outer sync (Streaming DiLoCo's `syncBytes`); `null`
   * for algorithms that do not report their syncs.
   */
  readonly peakSyncBytes: number | null;
}

/**
 * Computes a run's row.
 *
 * @param run The run.
 * @param target The accuracy to time, if any.
 * @returns The row.
 */
export function compareRow(run: RunData, target: number | null = null): CompareRow {
  const series = runSeries(run);
  const accuracies = series.evals.flatMap((point) =>
    point.accuracy === null ? [] : [point.accuracy]
  );
  const last = series.evals.at(-1);
  const reached = target === null
    ? undefined
    : series.evals.find((point) => (point.accuracy ?? -Infinity) >= target);
  return {
    name: run.name,
    algorithm: algorithmKinds(run.plan).join(" + "),
    workers: run.plan.workers,
    status: run.status,
    stepsRun: series.steps.length,
    steps: run.plan.steps,
    finalAccuracy: last?.accuracy ?? null,
    bestAccuracy: accuracies.length === 0 ? null : Math.max(...accuracies),
    finalTestLoss: last?.testLoss ?? null,
    finalBitsPerToken: last?.bitsPerToken ?? null,
    bytesPerWorker: bytesPerWorker(run),
    clock: series.virtual ? "simulated" : "training",
    timeMs: series.steps.at(-1)?.timeMs ?? 0,
    wallTimeMs: run.summary?.wallTimeMs ?? null,
    timeToTargetMs: reached?.timeMs ?? null,
    bytesToTarget: reached?.bytes ?? null,
    peakSyncBytes: peakSyncBytes(run),
  };
}

/** The largest `syncBytes` of the run's step lines (the summary's, once it ended). */
function peakSyncBytes(run: RunData): number | null {
  if (run.summary?.peakSyncBytes !== undefined) return run.summary.peakSyncBytes;
  const syncs = run.steps.flatMap((line) => {
    const bytes = line.algorithm?.syncBytes;
    return typeof bytes === "number" ? [bytes] : [];
  });
  return syncs.length === 0 ? null : Math.max(...syncs);
}

/** Whether some row reports the bytes of its outer syncs (its table shows the peak). */
export function hasPeakSync(rows: readonly CompareRow[]): boolean {
  return rows.some((row) => row.peakSyncBytes !== null);
}

/**
 * Bytes each worker sent per phase, mean over workers: from `summary.json` when the run ended,
 * else summed from the metrics written so far (every line carries the bytes since the previous).
 */
function bytesPerWorker(run: RunData): PhaseBytes {
  const n = run.plan.workers;
  const total = zeroBytes();
  // A failed run's summary written on a full disk may hold only its status and reason.
  if (Array.isArray(run.summary?.bytes)) {
    for (const worker of run.summary.bytes) {
      for (const phase of PHASES) total[phase] += worker.sent[phase];
    }
  } else {
    for (const line of [...run.steps, ...run.traffic]) {
      for (const phase of PHASES) total[phase] += line.bytesSent[phase];
    }
  }
  for (const phase of PHASES) total[phase] /= n;
  return total;
}

/** Whether some row is a language model's (its table shows bits per token). */
export function isLanguage(rows: readonly CompareRow[]): boolean {
  return rows.some((row) => row.finalBitsPerToken !== null);
}

const percent = (value: number | null) => value === null ? "-" : `${(100 * value).toFixed(2)}%`;
const seconds = (ms: number | null) => ms === null ? "-" : `${(ms / 1000).toFixed(2)} s`;

/** A column of the table, with its text and CSV renderings. */
export interface CompareColumn {
  readonly header: string;
  readonly text: (row: CompareRow) => string;
  readonly csv: (row: CompareRow) => string | number | null;
}

/**
 * The columns of the table; the time and bytes to the target accuracy appear when one is given,
 * the final bits per token when a run is a language model.
 *
 * @param target The target accuracy, or `null`.
 * @param language Whether to show the final bits per token.
 * @param peak Whether to show the peak bytes of one outer sync.
 * @returns The columns, in order.
 */
export function compareColumns(
  target: number | null,
  language = false,
  peak = false,
): CompareColumn[] {
  return [
    { header: "run", text: (row) => row.name, csv: (row) => row.name },
    { header: "algorithm", text: (row) => row.algorithm, csv: (row) => row.algorithm },
    { header: "workers", text: (row) => String(row.workers), csv: (row) => row.workers },
    {
      header: "steps",
      text: (row) =>
        row.stepsRun === row.steps ? String(row.steps) : `${row.stepsRun}/${row.steps}`,
      csv: (row) => row.stepsRun,
    },
    { header: "status", text: (row) => row.status, csv: (row) => row.status },
    ...(language
      ? [{
        header: "final bits/token",
        text: (row: CompareRow) => row.finalBitsPerToken?.toFixed(3) ?? "-",
        csv: (row: CompareRow) => row.finalBitsPerToken,
      }]
      : []),
    {
      header: "final accuracy",
      text: (row) => percent(row.finalAccuracy),
      csv: (row) => row.finalAccuracy,
    },
    {
      header: "best accuracy",
      text: (row) => percent(row.bestAccuracy),
      csv: (row) => row.bestAccuracy,
    },
    ...PHASES.map((phase) => ({
      header: `${phase} sent/worker`,
      text: (row: CompareRow) => formatBytes(row.bytesPerWorker[phase]),
      csv: (row: CompareRow) => row.bytesPerWorker[phase],
    })),
    ...(peak
      ? [{
        header: "peak sync/worker",
        text: (row: CompareRow) =>
          row.peakSyncBytes === null ? "-" : formatBytes(row.peakSyncBytes),
        csv: (row: CompareRow) => row.peakSyncBytes,
      }]
      : []),
    {
      header: "time",
      text: (row) => `${seconds(row.timeMs)} ${row.clock === "simulated" ? "(sim.)" : ""}`.trim(),
      csv: (row) => row.timeMs,
    },
    { header: "clock", text: (row) => row.clock, csv: (row) => row.clock },
    { header: "wall time", text: (row) => seconds(row.wallTimeMs), csv: (row) => row.wallTimeMs },
    ...(target === null ? [] : [
      {
        header: `time to ${percent(target)}`,
        text: (row: CompareRow) => seconds(row.timeToTargetMs),
        csv: (row: CompareRow) => row.timeToTargetMs,
      },
      {
        header: `bytes to ${percent(target)}`,
        text: (row: CompareRow) =>
          row.bytesToTarget === null ? "-" : formatBytes(row.bytesToTarget),
        csv: (row: CompareRow) => row.bytesToTarget,
      },
    ]),
  ];
}

/**
 * Renders the rows for the terminal.
 *
 * @param rows The rows.
 * @param target The target accuracy, whose columns appear when given.
 * @returns The table text.
 */
export function compareText(rows: readonly CompareRow[], target: number | null = null): string {
  const cols = compareColumns(target, isLanguage(rows), hasPeakSync(rows)).filter((column) =>
    column.header !== "clock"
  );
  return table(
    cols.map((column) => column.header),
    rows.map((row) => cols.map((c) => c.text(row))),
  );
}

/**
 * Renders the rows as CSV (RFC 4180 quoting, raw numbers: fractions, bytes, milliseconds).
 *
 * @param rows The rows.
 * @param target The target accuracy, whose columns appear when given.
 * @returns The CSV text, with a header line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareCsv, type CompareRow } from "./compare_table.ts";
 *
 * const row = {
 *   name: 'a,"b"', algorithm: "allReduce", workers: 2, status: "completed", stepsRun: 4,
 *   steps: 4, finalAccuracy: 0.5, bestAccuracy: 0.5, finalTestLoss: 1, finalBitsPerToken: null,
 *   bytesPerWorker: { base: 10, outer: 0, compressed: 0, control: 1, state: 0 }, clock: "training",
 *   timeMs: 20, wallTimeMs: 30, timeToTargetMs: null, bytesToTarget: null, peakSyncBytes: null,
 * } satisfies CompareRow;
 * assert.equal(compareCsv([row]).split("\n")[1], '"a,""b""",allReduce,2,4,completed,0.5,0.5,10,0,0,1,0,20,training,30');
 * ```
 */
export function compareCsv(rows: readonly CompareRow[], target: number | null = null): string {
  const cols = compareColumns(target, isLanguage(rows), hasPeakSync(rows));
  const cell = (value: string | number | null) => {
    if (value === null) return "";
    const text = String(value);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [
    cols.map((column) => cell(column.header)).join(","),
    ...rows.map((row) => cols.map((column) => cell(column.csv(row))).join(",")),
  ].join("\n") + "\n";
}
