/**
 * A one-line progress display for a terminal: step, loss, accuracy, bytes and ETA, redrawn in
 * place at most ten times a second. Silent when standard error is not a terminal.
 *
 * @module
 */

import type { Progress } from "../runtime/run_types.ts";
import { formatBytes } from "../report/format.ts";

/** Formats milliseconds as m:ss. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

/**
 * Renders one progress line.
 *
 * @param progress The snapshot.
 * @param width Bar width in characters.
 * @returns The line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressLine } from "./progress_bar.ts";
 * const line = progressLine({
 *   worker: 0, workerStep: 5, simulatedMs: null,
 *   step: 5, steps: 10, loss: 0.5, accuracy: 0.9, bytesPerWorker: 2048, elapsedMs: 1000, etaMs: 1000,
 * }, 10);
 * assert.ok(line.startsWith("step 5/10 [#####.....]"));
 * ```
 */
export function progressLine(progress: Progress, width = 24): string {
  const filled = Math.round(width * progress.step / progress.steps);
  const bar = "#".repeat(filled) + ".".repeat(width - filled);
  const parts = [
    `step ${progress.step}/${progress.steps} [${bar}]`,
    `loss ${progress.loss === null ? "-" : progress.loss.toFixed(4)}`,
    `acc ${progress.accuracy === null ? "-" : `${(100 * progress.accuracy).toFixed(1)}%`}`,
    `sent ${formatBytes(progress.bytesPerWorker)}/worker`,
    `ETA ${progress.etaMs === null ? "-" : formatDuration(progress.etaMs)}`,
  ];
  return parts.join("  ");
}

/** Draws progress on standard error when it is a terminal. */
export class ProgressBar {
  readonly #enabled: boolean;
  readonly #encoder = new TextEncoder();
  #last = 0;
  #drawn = false;

  /** @param enabled Draw at all (false for `--quiet`). */
  constructor(enabled: boolean) {
    this.#enabled = enabled && Deno.stderr.isTerminal();
  }

  /** Redraws, throttled. */
  update(progress: Progress): void {
    if (!this.#enabled) return;
    const now = performance.now();
    if (now - this.#last < 100 && progress.step < progress.steps) return;
    this.#last = now;
    this.#drawn = true;
    Deno.stderr.writeSync(this.#encoder.encode(`\r\x1b[2K${progressLine(progress)}`));
  }

  /** Ends the line. */
  done(): void {
    if (this.#drawn) Deno.stderr.writeSync(this.#encoder.encode("\n"));
    this.#drawn = false;
  }
}
