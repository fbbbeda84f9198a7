/**
 * What the plan layer's tests share: the issues a pipeline's `compile()` reports.
 *
 * @module
 */

import { PlanError, type PlanIssue } from "./validate.ts";

/**
 * The issues `compile()` throws as a `PlanError`, or `[]` when the pipeline compiles; any other
 * error is thrown on.
 *
 * @param pipeline A pipeline (or anything with `compile()`).
 * @returns The issues.
 */
export function compileIssues(pipeline: { compile(): unknown }): readonly PlanIssue[] {
  try {
    pipeline.compile();
  } catch (error) {
    if (error instanceof PlanError) return error.issues;
    throw error;
  }
  return [];
}
