/**
 * Warning lines about refused connections, rate-limited: a stranger who opens thousands of
 * connections must not flood the log (a log that grows without bound is an attack of its own),
 * yet the first ones are always shown and none disappears without a count.
 *
 * @module
 */

/** Where warning lines go. */
export type Warn = (line: string) => void;

/** Options of {@linkcode rateLimited}. */
export interface RateLimit {
  /** Lines shown at once before the limit applies (default 10). */
  readonly burst?: number;
  /** Lines per second after that (default 1). */
  readonly perSecond?: number;
}

/**
 * Wraps a warning sink in a token bucket: lines beyond the rate are counted, and the next line
 * shown says how many were left out.
 *
 * @param warn Where shown lines go.
 * @param limit Burst and rate.
 * @returns The limited sink.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rateLimited } from "./warnings.ts";
 * const lines: string[] = [];
 * const warn = rateLimited((line) => lines.push(line), { burst: 2, perSecond: 0 });
 * for (let i = 0; i < 5; i++) warn(`stranger ${i}`);
 * assert.deepEqual(lines, ["stranger 0", "stranger 1"]);
 * ```
 */
export function rateLimited(warn: Warn, limit: RateLimit = {}): Warn {
  const burst = limit.burst ?? 10;
  const perSecond = limit.perSecond ?? 1;
  let tokens = burst;
  let refilled = performance.now();
  let leftOut = 0;
  return (line) => {
    const now = performance.now();
    tokens = Math.min(burst, tokens + (now - refilled) / 1000 * perSecond);
    refilled = now;
    if (tokens < 1) {
      leftOut++;
      return;
    }
    tokens--;
    const note = leftOut === 0
      ? ""
      : ` (${leftOut} similar warning${leftOut === 1 ? "" : "s"} left out)`;
    leftOut = 0;
    warn(line + note);
  };
}

/** Writes a warning line to standard error. */
export const warnToStderr: Warn = (line) => console.error(`Warning: ${line}`);
