/**
 * What an experiment expects: each folder of `examples/experiments/` may hold `expect.ts`, whose
 * default export turns the experiment's rows (one per pipeline, by pipeline name) into checks,
 * each a claim from the paper, whether the measured numbers bear it out, and those numbers. The
 * experiments runner prints them as PASS or FAIL.
 *
 * @module
 */

import type { ExperimentRow } from "./experiment_row.ts";
import { messageOf } from "../runtime/errors.ts";

/** One claim, checked. */
export interface Check {
  /** The claim, in words (what the paper says should happen). */
  readonly claim: string;
  /** Whether the measured numbers bear it out. */
  readonly pass: boolean;
  /** The numbers that decided it. */
  readonly measured: string;
}

/** An experiment's rows, by pipeline name (the file name without its extension). */
export type ExperimentRows = Readonly<Record<string, ExperimentRow>>;

/** The default export of an `expect.ts`. */
export type Expectations = (rows: ExperimentRows) => Check[];

/**
 * Builds a check.
 *
 * @param claim The claim.
 * @param pass Whether it holds.
 * @param measured The numbers that decided it.
 * @returns The check.
 */
export function check(claim: string, pass: boolean, measured: string): Check {
  return { claim, pass, measured };
}

/**
 * A row by pipeline name, with a message naming the missing pipeline (an `expect.ts` that names
 * a pipeline the folder does not have fails clearly rather than with a `TypeError`).
 *
 * @param rows The rows.
 * @param name The pipeline.
 * @returns Its row.
 * @throws {Error} When there is no such pipeline.
 */
export function row(rows: ExperimentRows, name: string): ExperimentRow {
  const found = rows[name];
  if (found === undefined) {
    throw new Error(`no pipeline "${name}" (have ${Object.keys(rows).join(", ")})`);
  }
  return found;
}

/**
 * A fraction as a percentage with two decimals, `-` when missing.
 *
 * @param value A fraction.
 * @returns The text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { percent } from "./expectations.ts";
 *
 * assert.equal(percent(0.9385), "93.85%");
 * ```
 */
export function percent(value: number | null): string {
  return value === null ? "-" : `${(100 * value).toFixed(2)}%`;
}

/**
 * Evaluates expectations; an expectation that throws becomes one failed check saying why.
 *
 * @param expectations The `expect.ts` export.
 * @param rows The rows.
 * @returns The checks.
 */
export function evaluate(expectations: Expectations, rows: ExperimentRows): Check[] {
  try {
    return expectations(rows);
  } catch (error) {
    return [check("the expectations can be evaluated", false, messageOf(error))];
  }
}
