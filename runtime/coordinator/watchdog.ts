/**
 * The coordinator's watchdog: a run in which no worker reports anything for too long (workers
 * that never register, a deadlock, a machine that went away) fails with a message instead of
 * hanging.
 *
 * @module
 */

/** What the watchdog watches. */
export interface WatchdogOptions {
  /** Fail after this much silence, in milliseconds. */
  readonly limitMs: number;
  /** When the coordinator last heard from any worker (`performance.now()` time). */
  readonly lastHeard: () => number;
  /** The message to fail with, given the limit. */
  readonly describe: (limitMs: number) => string;
  /** Called once the silence is longer than the limit. */
  readonly fail: (message: string) => void;
}

/** How often the watchdog looks. */
const CHECK_EVERY_MS = 250;

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
  const timer = setInterval(() => {
    if (performance.now() - options.lastHeard() > options.limitMs) {
      options.fail(options.describe(options.limitMs));
    }
  }, CHECK_EVERY_MS);
  return () => clearInterval(timer);
}
