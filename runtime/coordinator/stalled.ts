/**
 * Which worker stalled, for the message of a run that fell silent.
 *
 * When no worker reports anything for the silence timeout, usually one worker stopped making
 * progress and the others wait for it in a collective. A member that is connected and
 * authenticated but only keeps its mesh connections alive (heartbeats) looks alive to its
 * peers, so no peer timeout names it. The coordinator names it instead: workers tell it when
 * they have awaited a collective for a while (the control message `waiting`), so the workers
 * that do not wait are the stalled ones; among them, those furthest behind are named, with their
 * host, the last step they reported and how long ago they were last heard.
 *
 * @module
 */

/** What the coordinator knows of one worker's progress. */
export interface WorkerProgress {
  /** The worker's rank. */
  readonly rank: number;
  /** The host its control connection came from, or `null` when unknown. */
  readonly host: string | null;
  /** The last step it reported a step line for (from 0), or `null` for none. */
  readonly step: number | null;
  /** When it was last heard (`performance.now()` time); `waiting` notices do not count. */
  readonly heardAt: number;
  /** Whether it said it awaits a collective. */
  readonly waiting: boolean;
  /** Whether it handed back its final model. */
  readonly done: boolean;
}

/** The most workers one message describes. */
const MOST_NAMED = 8;

/** One worker, named with its host and its last report. */
function described(worker: WorkerProgress, now: number): string {
  const host = worker.host === null ? "host unknown" : `host ${worker.host}`;
  const ago = `${((now - worker.heardAt) / 1000).toFixed(1)} s ago`;
  const report = worker.step === null
    ? `reported no step since it registered; last heard ${ago}`
    : `last reported step ${worker.step}, ${ago}`;
  return `worker ${worker.rank} (${host}) ${report}`;
}

/** Ranks as a phrase: "worker 2", "workers 0, 1 and 3". */
function ranksPhrase(ranks: readonly number[]): string {
  if (ranks.length === 1) return `worker ${ranks[0]}`;
  return `workers ${ranks.slice(0, -1).join(", ")} and ${ranks.at(-1)}`;
}

/**
 * The sentence that names the stalled workers of a silent run, or `null` when every worker has
 * finished.
 *
 * @param workers What the coordinator knows of each registered worker.
 * @param now The time now (`performance.now()` time).
 * @returns E.g. "Stalled: worker 1 (host 10.0.0.2) reported no step since it registered; last
 *   heard 60.2 s ago, while workers 0, 2 and 3 wait in a collective".
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stalledSentence } from "./stalled.ts";
 * const worker = { host: "10.0.0.2", heardAt: 0, done: false };
 * assert.equal(
 *   stalledSentence([
 *     { ...worker, rank: 0, step: 4, waiting: true },
 *     { ...worker, rank: 1, step: null, waiting: false },
 *   ], 2500),
 *   "Stalled: worker 1 (host 10.0.0.2) reported no step since it registered; last heard 2.5 s ago, while worker 0 waits in a collective",
 * );
 * ```
 */
export function stalledSentence(workers: readonly WorkerProgress[], now: number): string | null {
  const running = workers.filter((worker) => !worker.done);
  if (running.length === 0) return null;
  const notWaiting = running.filter((worker) => !worker.waiting);
  const suspects = notWaiting.length > 0 ? notWaiting : running;
  // The furthest behind among them: no step at all counts as before step 0.
  const behind = Math.min(...suspects.map((worker) => worker.step ?? -1));
  const named = suspects.filter((worker) => (worker.step ?? -1) === behind);
  const waiting = running.filter((worker) => worker.waiting).map((worker) => worker.rank);
  const more = named.length > MOST_NAMED ? `; and ${named.length - MOST_NAMED} more` : "";
  const who = named.slice(0, MOST_NAMED).map((worker) => described(worker, now)).join("; ") +
    more;
  if (notWaiting.length === 0) {
    return `Every unfinished worker waits in a collective; furthest behind: ${who}`;
  }
  const others = waiting.length === 0
    ? ""
    : `, while ${ranksPhrase(waiting)} ${waiting.length === 1 ? "waits" : "wait"} in a collective`;
  return `Stalled: ${who}${others}`;
}
