/**
 * The bounds of every user-given timeout (the silence, peer, handshake and rendezvous
 * timeouts), checked in one place by the command line, `run` and `runWorker`.
 *
 * Timers take a signed 32-bit number of milliseconds: a longer delay (2³¹ ms, about 24.9 days,
 * or more) does not wait longer, it fires after 1 ms, so a generous timeout would fail every run
 * at once. Values are therefore refused above {@linkcode MAX_TIMEOUT_MS}, and below 1 ms or
 * when not a whole number, with a message naming the option.
 *
 * @module
 */

/** The longest timeout a timer can arm: 2³¹ − 1 ms, about 24.8 days. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The range of a timeout, as messages state it. */
export const TIMEOUT_RANGE =
  `a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (about 24.8 days)`;

/**
 * Whether `value` is a usable timeout: a whole number of milliseconds from 1 to
 * {@linkcode MAX_TIMEOUT_MS}.
 *
 * @param value The timeout, ms.
 * @returns True when a timer can wait that long.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTimeout } from "./timeouts.ts";
 * assert.deepEqual([isTimeout(5000), isTimeout(2 ** 31), isTimeout(0.5), isTimeout(NaN)], [
 *   true,
 *   false,
 *   false,
 *   false,
 * ]);
 * ```
 */
export function isTimeout(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 &&
    value <= MAX_TIMEOUT_MS;
}

/**
 * What is wrong with the timeouts among `options`, or `null` when every one given is usable.
 *
 * @param options An options object.
 * @param names The keys that hold timeouts in ms; an absent (`undefined`) one is fine.
 * @returns A message naming the first bad option and its value, or `null`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { timeoutProblem } from "./timeouts.ts";
 * assert.equal(timeoutProblem({ peerTimeoutMs: 20_000 }, ["peerTimeoutMs"]), null);
 * assert.match(timeoutProblem({ peerTimeoutMs: 2 ** 31 }, ["peerTimeoutMs"])!, /^peerTimeoutMs/);
 * ```
 */
export function timeoutProblem<T extends object>(
  options: T,
  names: readonly (keyof T & string)[],
): string | null {
  for (const name of names) {
    const value = options[name];
    if (value !== undefined && !isTimeout(value)) {
      return `${name} must be ${TIMEOUT_RANGE}, got ${String(value)}`;
    }
  }
  return null;
}
