/**
 * Membership of elastic runs as reports draw it: which lines the curves keep after a lost
 * worker's rewind, and the live workers over steps with each leave (who, why).
 *
 * After a TCP loss the survivors redo the steps from the membership line's `step` on, so the
 * step and evaluation lines of those steps written before that line belong to an abandoned
 * attempt: curves drop them (the redone lines take their place), while byte totals keep every
 * line, since those bytes were really sent. A declared leave (memory transport) rewinds nothing.
 *
 * @module
 */

import type { EvalLine, MembershipLine, MetricsLine, StepLine } from "../runtime/metrics.ts";

/** The lines a run's curves draw. */
export interface LatestLines {
  /** One step line per (step, worker): the last one written, abandoned attempts left out. */
  readonly steps: readonly StepLine[];
  /** One evaluation line per (step, model, worker), likewise. */
  readonly evals: readonly EvalLine[];
}

/**
 * The lines the curves draw: for each (type, step, worker[, model]) the last line written, and
 * none of those a lost worker's rewind abandoned (written before a `reason: "lost"` membership
 * line, for its step or later; the lost worker's own among them are never redone).
 *
 * @param lines A run's metrics lines, in file order.
 * @returns Its step and evaluation lines of the attempt that stands, ordered by step.
 * @example A step redone after a loss replaces the abandoned one
 * ```ts
 * import assert from "node:assert/strict";
 * import { latestLines } from "./membership.ts";
 * import type { MetricsLine } from "../runtime/metrics.ts";
 *
 * const bytes = { base: 8, outer: 0, compressed: 0, control: 0, state: 0 };
 * const step = (k: number, worker: number, loss: number): MetricsLine => ({
 *   type: "step", step: k, worker, loss, lr: 0.1, computeMs: 1, commMs: 1, elapsedMs: k,
 *   bytesSent: bytes, bytesReceived: bytes,
 * });
 * const latest = latestLines([
 *   step(0, 0, 4), step(0, 1, 4), step(1, 0, 9), step(1, 1, 9),
 *   { type: "membership", step: 1, worker: 0, left: [1], members: [0], reason: "lost" },
 *   step(1, 0, 3),
 * ]);
 * assert.deepEqual(latest.steps.map((line) => [line.step, line.worker, line.loss]), [
 *   [0, 0, 4], [0, 1, 4], [1, 0, 3],
 * ]);
 * ```
 */
export function latestLines(lines: readonly MetricsLine[]): LatestLines {
  const steps = new Map<string, StepLine>();
  const evals = new Map<string, EvalLine>();
  for (const line of lines) {
    if (line.type === "step") {
      // Deleting first puts a replacement where it was written, so order stays by attempt.
      const key = `${line.step}/${line.worker}`;
      steps.delete(key);
      steps.set(key, line);
    } else if (line.type === "eval") {
      const key = `${line.step}/${line.model}/${line.worker}`;
      evals.delete(key);
      evals.set(key, line);
    } else if (line.type === "membership" && line.reason === "lost") {
      for (const [key, kept] of steps) if (kept.step >= line.step) steps.delete(key);
      for (const [key, kept] of evals) if (kept.step >= line.step) evals.delete(key);
    }
  }
  const byStep = (a: { step: number }, b: { step: number }) => a.step - b.step;
  return { steps: [...steps.values()].sort(byStep), evals: [...evals.values()].sort(byStep) };
}

/** The live workers from one step on. */
export interface LivePoint {
  /** The step (from 0) from which `live` workers train. */
  readonly step: number;
  /** How many workers are live. */
  readonly live: number;
}

/** A run's membership over its steps. */
export interface MembershipTimeline {
  /** Workers the plan started with. */
  readonly workers: number;
  /**
   * Live workers per step as a step function: the plan's workers at step 0, then the count after
   * each change, and the count at the run's last step so far (where the line ends).
   */
  readonly points: readonly LivePoint[];
  /** Every change, in the order written. */
  readonly changes: readonly MembershipLine[];
  /** The workers live now, ascending. */
  readonly members: readonly number[];
}

/**
 * A run's live workers over its steps.
 *
 * @param workers The plan's workers.
 * @param changes Its membership lines, in file order.
 * @param lastStep The last step it reached (written a line for) so far.
 * @returns The timeline.
 * @example Worker 2 of 4 lost before step 10 of 40
 * ```ts
 * import assert from "node:assert/strict";
 * import { membershipTimeline } from "./membership.ts";
 *
 * const timeline = membershipTimeline(4, [
 *   { type: "membership", step: 10, worker: 0, left: [2], members: [0, 1, 3], reason: "lost" },
 * ], 39);
 * assert.deepEqual(timeline.points, [
 *   { step: 0, live: 4 },
 *   { step: 10, live: 3 },
 *   { step: 39, live: 3 },
 * ]);
 * assert.deepEqual(timeline.members, [0, 1, 3]);
 * ```
 */
export function membershipTimeline(
  workers: number,
  changes: readonly MembershipLine[],
  lastStep: number,
): MembershipTimeline {
  const points: LivePoint[] = [{ step: 0, live: workers }];
  for (const change of changes) points.push({ step: change.step, live: change.members.length });
  const last = points.at(-1)!;
  if (lastStep > last.step) points.push({ step: lastStep, live: last.live });
  return {
    workers,
    points,
    changes,
    members: changes.at(-1)?.members ?? Array.from({ length: workers }, (_, worker) => worker),
  };
}

/**
 * How a change reads in a chart's label and the events table.
 *
 * @param change A membership change.
 * @returns E.g. `"worker 2 lost"` or `"workers 1, 2 left (declared)"`.
 */
export function changeLabel(change: Pick<MembershipLine, "left" | "reason">): string {
  const who = `${change.left.length === 1 ? "worker" : "workers"} ${change.left.join(", ")}`;
  return change.reason === "lost" ? `${who} lost` : `${who} left (declared)`;
}

/**
 * The workers that left the run at some change: their lines may stop short of the change's
 * step (a killed worker's last lines die with it), so a step needs only the others' lines.
 *
 * @param changes The run's membership lines.
 * @returns The workers that left.
 */
export function leftWorkers(changes: readonly MembershipLine[]): Set<number> {
  return new Set(changes.flatMap((change) => change.left));
}

/**
 * The workers live at a step, by the changes written so far.
 *
 * @param workers The plan's workers.
 * @param changes The run's membership lines, in file order.
 * @param step A step.
 * @returns The members at that step.
 */
export function membersAt(
  workers: number,
  changes: readonly MembershipLine[],
  step: number,
): readonly number[] {
  let members: readonly number[] = Array.from({ length: workers }, (_, worker) => worker);
  for (const change of changes) if (change.step <= step) members = change.members;
  return members;
}
