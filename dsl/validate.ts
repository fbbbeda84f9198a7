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

/** A schema as this module walks it: object entries, variant options, wrapped schemas. */
interface SchemaShape {
  readonly type: string;
  readonly entries?: Record<string, SchemaShape>;
  readonly options?: readonly SchemaShape[];
  readonly wrapped?: SchemaShape;
  readonly key?: string;
  readonly literal?: unknown;
}

/**
 * The keys the schema allows in the object at `path` of `value` (following variants by the
 * value's own discriminator), so an unknown key's message can list them; `null` when the walk
 * does not reach an object schema.
 */
function knownKeys(value: unknown, path: readonly PropertyKey[]): string[] | null {
  let schema = planSchema as unknown as SchemaShape;
  let node = value;
  const settle = () => {
    while (schema.wrapped !== undefined) schema = schema.wrapped;
    if (schema.options !== undefined && schema.key !== undefined && isRecord(node)) {
      const kind = (node as Record<string, unknown>)[schema.key];
      const option = schema.options.find((candidate) =>
        candidate.entries?.[schema.key!]?.literal === kind
      );
      if (option === undefined) return false;
      schema = option;
    }
    return true;
  };
  for (const key of path) {
    if (!settle() || schema.entries === undefined || !isRecord(node)) return null;
    const next = schema.entries[String(key)];
    if (next === undefined) return null;
    schema = next;
    node = (node as Record<string, unknown>)[String(key)];
  }
  return settle() && schema.entries !== undefined ? Object.keys(schema.entries) : null;
}

/** Levenshtein distance, for suggesting the key a typo meant. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Turns one valibot issue into a plan issue with a dotted path and a plain message. */
function fromValibot(raw: v.BaseIssue<unknown>, value: unknown): PlanIssue {
  const keys = (raw.path ?? []).map((item) => item.key as PropertyKey);
  const path = keys.map(String).join(".");
  const received = raw.received;
  let expected = raw.expected ?? raw.type.replaceAll("_", " ");
  if (raw.type === "strict_object" && raw.expected === "never") {
    // An unknown key: say which keys are known, and which one a typo probably meant.
    const known = knownKeys(value, keys.slice(0, -1));
    const typo = String(keys.at(-1));
    // Close enough to be a typo: one edit in short keys, up to a third of the letters in long.
    const near = known?.filter((key) =>
      distance(key, typo) <= Math.max(1, Math.floor(typo.length / 3))
    ) ?? [];
    expected = known === null ? "no such key" : `one of ${known.join(", ")}`;
    return {
      path,
      message: near.length > 0 ? `unknown key; did you mean "${near[0]}"?` : "unknown key",
      expected,
      received,
    };
  }
  // Our own messages ("must be at least 1") are kept; valibot's generic ones ("Invalid type:
  // Expected … but received …") become a short phrase, since expected and received are shown.
  let message = raw.message;
  if (message.startsWith("Invalid ")) {
    if (received === "undefined") message = "is required";
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
  if (!result.success) return result.issues.map((issue) => fromValibot(issue, value));
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
