/**
 * How a TCP run decides that it failed and why. The first failure wins; two kinds of evidence
 * are weighed before naming a cause:
 *
 * - A silent or dead worker makes its peers time out, and their peers in turn. Peer failures
 *   ("worker 2 stopped answering") are collected for a moment, then the worker that others
 *   blame but that reported nothing itself is named: the root cause, rather than the first
 *   timeout to fire.
 * - What the launcher sees (a thread's failure, a process's exit code) usually follows the
 *   worker's own report on its control connection, which names the cause better, so it is used
 *   only when nothing better arrives within a grace period.
 *
 * @module
 */

/** How long peer failures are collected before the root cause is named. */
export const PEER_FAILURE_GRACE_MS = 750;

/** A worker's report that it lost a peer. */
export interface Blame {
  /** The worker that reported. */
  readonly reporter: number;
  /** The worker it blames. */
  readonly peer: number;
  /** The reporter's message. */
  readonly message: string;
}

/**
 * The blames that name a root cause: those whose peer reported nothing itself (a peer that
 * reports lost peers of its own is a symptom), in order; the first blame when every peer did.
 *
 * @param blames The blames of one grace period, at least one.
 * @returns The root causes' blames.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rootCauses } from "./failures.ts";
 *
 * const causes = rootCauses([
 *   { reporter: 3, peer: 2, message: "a" },
 *   { reporter: 0, peer: 3, message: "b" },
 * ]);
 * assert.deepEqual(causes.map((blame) => blame.peer), [2]);
 * ```
 */
export function rootCauses(blames: readonly Blame[]): Blame[] {
  const reporters = new Set(blames.map((blame) => blame.reporter));
  const silent = blames.filter((blame) => !reporters.has(blame.peer));
  return silent.length > 0 ? silent : blames.slice(0, 1);
}

/** The failure state of one run: settles once, with `null` on success or the failure message. */
export class RunFailures {
  #failed: string | null = null;
  #settle!: (error: string | null) => void;
  /** Resolves with `null` when every worker finished, or the message of the first failure. */
  readonly finished: Promise<string | null> = new Promise((resolve) => this.#settle = resolve);
  readonly #blames: Blame[] = [];
  #blameTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #lateTimers = new Set<ReturnType<typeof setTimeout>>();

  /** The first failure's message, or `null` while the run is healthy. */
  get failed(): string | null {
    return this.#failed;
  }

  /** Every worker finished: the run succeeded (unless it already failed). */
  succeed(): void {
    this.#settle(null);
  }

  /**
   * Fails the run now, unless it already failed.
   *
   * @param message What failed, naming the worker where known.
   */
  fail(message: string): void {
    if (this.#failed !== null) return;
    this.#failed = message;
    this.#settle(message);
  }

  /**
   * Records that `reporter` lost `peer`; the run fails once the grace period names the root.
   *
   * @param reporter The worker that reported the failure.
   * @param peer The worker it blames.
   * @param message The reporter's message.
   */
  blame(reporter: number, peer: number, message: string): void {
    this.#blames.push({ reporter, peer, message });
    this.#blameTimer ??= setTimeout(() => {
      this.fail(rootCauses(this.#blames)[0]!.message);
    }, PEER_FAILURE_GRACE_MS);
  }

  /**
   * Fails the run with what a launcher observed, unless a better report arrives first.
   *
   * @param message The launcher's observation.
   * @param moot Asked when the grace ends: `true` when the observation no longer matters (an
   *   elastic run went on without the worker).
   */
  failLater(message: string, moot: () => boolean = () => false): void {
    this.#lateTimers.add(
      setTimeout(() => {
        if (!moot()) this.fail(message);
      }, 2 * PEER_FAILURE_GRACE_MS),
    );
  }

  /** Clears every pending timer (the run is over either way). */
  dispose(): void {
    clearTimeout(this.#blameTimer);
    for (const timer of this.#lateTimers) clearTimeout(timer);
  }
}
