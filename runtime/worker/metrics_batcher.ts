/**
 * A worker's metrics lines on their way to the coordinator, in batches. One control message per
 * line would cost a frame and a write every step; holding lines too long would leave the live
 * view behind. So lines wait until {@linkcode METRICS_BATCH} of them are held or
 * {@linkcode METRICS_FLUSH_MS} passed since the last batch left, whichever comes first.
 *
 * Whoever depends on the order flushes first: a checkpoint must not get ahead of the lines
 * before it, the final model must follow the last line, and a failing worker hands over the
 * lines it has before it reports why it stops.
 *
 * @module
 */

import type { MetricsLine } from "../metrics.ts";

/** The most lines sent in one batch. */
const METRICS_BATCH = 64;

/** A line that finds the last batch older than this many ms goes out with what is held. */
const METRICS_FLUSH_MS = 200;

/**
 * Holds metrics lines and sends them in batches.
 *
 * @example Lines go out together, at the latest when flushed
 * ```ts
 * import assert from "node:assert/strict";
 * import { MetricsBatcher } from "./metrics_batcher.ts";
 * import type { MetricsLine } from "../metrics.ts";
 *
 * const sent: number[] = [];
 * const batcher = new MetricsBatcher((lines) => sent.push(lines.length));
 * const line = { type: "traffic" } as unknown as MetricsLine;
 * batcher.add(line);
 * batcher.add(line);
 * batcher.flush();
 * batcher.flush();
 * assert.deepEqual(sent, [2]);
 * ```
 */
export class MetricsBatcher {
  readonly #send: (lines: readonly MetricsLine[]) => void;
  #pending: MetricsLine[] = [];
  #lastFlush = performance.now();

  /** @param send Sends one batch (it must not throw: a lost batch is not the run's failure). */
  constructor(send: (lines: readonly MetricsLine[]) => void) {
    this.#send = send;
  }

  /**
   * Holds a line, and sends what is held when the batch is full or the last one is old.
   *
   * @param line The line.
   */
  add(line: MetricsLine): void {
    this.#pending.push(line);
    if (
      this.#pending.length >= METRICS_BATCH ||
      performance.now() - this.#lastFlush > METRICS_FLUSH_MS
    ) {
      this.flush();
    }
  }

  /** Sends every line held, if any. */
  flush(): void {
    if (this.#pending.length === 0) return;
    this.#send(this.#pending);
    this.#pending = [];
    this.#lastFlush = performance.now();
  }
}
