/**
 * Plan validation: the single source of truth for what a runnable plan is. `compile()`, the
 * CLI, plan files and workers receiving a plan all go through {@linkcode validatePlan}.
 *
 * @module
 */

import * as v from "valibot";
import type { Plan } from "./plan.ts";
import { crossSlotIssues, type PlanIssue } from "./rules.ts";
import { planSchema } from "./schema.ts";

export type { PlanIssue };

/** Turns one valibot issue into a plan issue with a dotted path and a plain message. */
function fromValibot(raw: v.BaseIssue<unknown>): PlanIssue {
  const path = (raw.path ?? []).map((item) => String(item.key)).join(".");
  const received = raw.received;
  const expected = raw.expected ?? raw.type.replaceAll("_", " ");
  // Our own messages ("must be at least 1") are kept; valibot's generic ones ("Invalid type:
  // Expected … but received …") become a short phrase, since expected and received are shown.
  let message = raw.message;
  if (message.startsWith("Invalid ")) {
    if (raw.type === "strict_object" && raw.expected === "never") message = "unknown key";
    else if (received === "undefined") message = "is required";
    else if (raw.type === "variant" && raw.expected !== "Object") message = "unknown kind";
    else message = "wrong type";
  }
  return { path, message, expected, received };
}

/** Whether a value could be a plan node at all (valibot's objects also accept arrays). */
function isRecord(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks any value against the plan format and every cross-slot rule.
 *
 * @param value Anything: a compiled plan, parsed JSON, a message from another worker.
 * @returns The issues found; an empty array means `value` is a valid {@linkcode Plan}.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validatePlan } from "./validate.ts";
 * const issues = validatePlan({ version: 1 });
 * assert.ok(issues.some((issue) => issue.path === "model"));
 * ```
 */
export function validatePlan(value: unknown): PlanIssue[] {
  if (!isRecord(value)) {
    const received = Array.isArray(value) ? JSON.stringify(value) : String(JSON.stringify(value));
    return [{ path: "", message: "wrong type", expected: "Object", received }];
  }
  const result = v.safeParse(planSchema, value, { abortEarly: false });
  if (!result.success) return result.issues.map(fromValibot);
  return crossSlotIssues(result.output as Plan);
}

/**
 * Renders issues one per line: `path: message (expected …, received …)`.
 *
 * @param issues Validation issues.
 * @returns Human-readable text.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatIssues } from "./validate.ts";
 * const text = formatIssues([{ path: "steps", message: "must be at least 1", expected: ">=1", received: "0" }]);
 * assert.ok(text === "steps: must be at least 1 (expected >=1, received 0)");
 * ```
 */
export function formatIssues(issues: readonly PlanIssue[]): string {
  return issues
    .map((item) =>
      `${
        item.path === "" ? "plan" : item.path
      }: ${item.message} (expected ${item.expected}, received ${item.received})`
    )
    .join("\n");
}

/** A plan that failed validation; `issues` lists every problem found. */
export class PlanError extends Error {
  /** Every problem found, with its path. */
  readonly issues: readonly PlanIssue[];

  /**
   * Builds the error with a message listing every issue, one per line.
   *
   * @param issues The validation issues.
   * @param source Where the plan came from, for the message (e.g. a file path).
   */
  constructor(issues: readonly PlanIssue[], source = "plan") {
    const count = issues.length === 1 ? "1 issue" : `${issues.length} issues`;
    super(`Cannot compile ${source}: ${count}\n${formatIssues(issues)}`);
    this.name = "PlanError";
    this.issues = issues;
  }
}

/**
 * Validates a value and returns it typed as a plan.
 *
 * @param value Anything.
 * @param source Where it came from, for the error message.
 * @returns The value as a {@linkcode Plan}.
 * @throws {PlanError} When the value is not a valid plan.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePlan, PlanError } from "./validate.ts";
 * try {
 *   parsePlan({}, "empty.json");
 * } catch (error) {
 *   assert.ok(error instanceof PlanError && error.message.startsWith("Cannot compile empty.json"));
 * }
 * ```
 */
export function parsePlan(value: unknown, source = "plan"): Plan {
  const issues = validatePlan(value);
  if (issues.length > 0) throw new PlanError(issues, source);
  return value as Plan;
}
