/**
 * The vocabulary of traffic: the phases a worker's bytes are counted under (docs/algorithms.md
 * §0) and per-phase byte counters. The plan explainer predicts bytes in these terms, the
 * transports count real bytes in them, and the run summary reports them, so all three share
 * this one definition.
 *
 * @module
 */

/**
 * Traffic phases reported per worker: the base's, the outer's, compressed codes, control, and
 * state (a worker's state handed to a worker joining an elastic run).
 */
export type Phase = "base" | "outer" | "compressed" | "control" | "state";

/**
 * All phases, in report order. Frames carry a phase as its index here, so a new phase goes last
 * (the indices of the others stay as they are on the wire).
 */
export const PHASES: readonly Phase[] = ["base", "outer", "compressed", "control", "state"];

/** Bytes per phase. */
export type PhaseBytes = Record<Phase, number>;

/**
 * Zeroed per-phase counters.
 *
 * @returns A fresh record with every phase at 0.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { zeroBytes } from "./traffic.ts";
 * assert.ok(zeroBytes().compressed === 0);
 * ```
 */
export function zeroBytes(): PhaseBytes {
  return { base: 0, outer: 0, compressed: 0, control: 0, state: 0 };
}

/**
 * Bytes in all phases together.
 *
 * @param bytes Bytes per phase (a worker's, or an estimate from `explainPlan`).
 * @returns Their sum.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { totalBytes } from "./traffic.ts";
 * assert.ok(totalBytes({ base: 1, outer: 2, compressed: 3, control: 4, state: 5 }) === 15);
 * ```
 */
export function totalBytes(bytes: Readonly<PhaseBytes>): number {
  return PHASES.reduce((sum, phase) => sum + bytes[phase], 0);
}
