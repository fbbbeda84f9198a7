/**
 * The coordinator's watchdog: a run in which no worker reports anything for too long (workers
 * that never register, a deadlock, a machine that went away) fails with a message instead of
 * hanging.
 *
 * Silence is judged by the run's progress, not by the coordinator's own clock: time during which
 * the coordinator itself was not running (Ctrl-Z, a stalled virtual machine, a laptop lid) does
 * not count, since the workers' messages are then waiting in the sockets, unread. And the limit
 * grows with what the run has shown: it is at least a multiple of the longest gap between
 * messages seen so far, so a run whose evaluations are long is not taken for a dead one.
 *
 * @module
 */

/** What the watchdog watches. */
export interface WatchdogOptions {
  /** Fail after at least this much silence, in milliseconds. */
  readonly limitMs: number;
  /** When the coordinator last heard from any worker (`performance.now()` time). */
  readonly lastHeard: () => number;
  /** The message to fail with, given the limit in force. */
  readonly describe: (limitMs: number) => string;
  /** Called once the silence is longer than the limit. */
  readonly fail: (message: string) => void;
  /** How often to look, ms (default 250). */
  readonly checkEveryMs?: number;
  /** The clock, ms (default `performance.now`; tests step their own). */
  readonly now?: () => number;
}

/** How often the watchdog looks by default. */
const CHECK_EVERY_MS = 250;

/** The limit is at least this many times the longest gap between messages seen so far. */
export const GAP_FACTOR = 10;

/**
 * Starts watching.
 *
 * @param options The limit, the last-heard clock, the message and the failure callback.
 * @returns A function that stops the watchdog.
 * @example
 * ```ts
 * import { startWatchdog } from "./watchdog.ts";
 * const stop = startWatchdog({
 *   limitMs: 1000,
 *   lastHeard: () => performance.now(),
 *   describe: (ms) => `silent for ${ms} ms`,
 *   fail: () => {},
 * });
 * stop();
 * ```
 */
export function startWatchdog(options: WatchdogOptions): () => void {
  const every = options.checkEveryMs ?? CHECK_EVERY_MS;
  const clock = options.now ?? (() => performance.now());
  let lastTick = clock();
  let heard = options.lastHeard();
  let silentMs = 0;
  let longestGapMs = 0;
  let failed = false;
  const timer = setInterval(() => {
    const now = clock();
    // A tick far later than scheduled means this process was not running: that time is not
    // the workers' silence.
    const elapsed = Math.min(now - lastTick, 4 * every);
    lastTick = now;
    const latest = options.lastHeard();
    if (latest !== heard) {
      longestGapMs = Math.max(longestGapMs, silentMs);
      heard = latest;
      silentMs = 0;
      return;
    }
    silentMs += elapsed;
    const limit = Math.max(options.limitMs, GAP_FACTOR * longestGapMs);
    if (silentMs > limit && !failed) {
      failed = true;
      options.fail(options.describe(Math.round(limit)));
    }
  }, every);
  return () => clearInterval(timer);
}
