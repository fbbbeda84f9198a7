/**
 * Plan validation: the single source of truth for what a runnable plan is. `compile()`, the
 * CLI, plan files and workers receiving a plan all go through {@linkcode validatePlan}.
 *
 * @module
 */

import * as v from "../deps/valibot.ts";
import type { Plan } from "./plan.ts";
import { crossSlotIssues, type PlanIssue } from "./rules.ts";
import { planSchema } from "./schema.ts";
import {
  clipEcho,
  clipSentence,
  closestWord,
  type OptionProblem,
  optionProblems,
} from "../strict_options.ts";

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
    const near = known === null ? undefined : closestWord(typo, known);
    expected = known === null ? "no such key" : `one of ${known.join(", ")}`;
    return {
      path,
      message: near === undefined ? "unknown key" : `unknown key; did you mean "${near}"?`,
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
 * The issues of a value: what factories noted on its nodes (an unknown option, a value they could
 * not read), then the schema's (but those about a field a factory's problem already explains),
 * then the cross-slot rules'.
 */
function issuesOf(value: unknown, problems: readonly OptionProblem[]): PlanIssue[] {
  const fromOptions = problems.map(({ field: _, ...issue }) => issue);
  const explained = problems.flatMap((problem) => problem.field ?? []);
  const isExplained = (path: string) =>
    explained.some((field) => path === field || path.startsWith(`${field}.`));
  if (!isRecord(value)) {
    const received = Array.isArray(value) ? JSON.stringify(value) : String(JSON.stringify(value));
    return [{ path: "", message: "wrong type", expected: "Object", received }];
  }
  const result = v.safeParse(planSchema, value, { abortEarly: false });
  if (!result.success) {
    const schemaIssues = result.issues.map((issue) => fromValibot(issue, value));
    return [...fromOptions, ...schemaIssues.filter((issue) => !isExplained(issue.path))];
  }
  return [...fromOptions, ...crossSlotIssues(withLateFields(result.output) as Plan)];
}

/**
 * A schema-valid plan with the fields added after plan version 1 filled in where a plan written
 * before them lacks them (`elastic: null`, a network's `failures: []`), so code reads one shape;
 * the plan itself when nothing is missing. `planHash` leaves these fields out at those values, so
 * filling them in changes no plan's hash.
 */
function withLateFields(value: unknown): unknown {
  if (!isRecord(value)) return value;
  const plan = value as Record<string, unknown>;
  const network = plan.network as Record<string, unknown> | null | undefined;
  const networkLacks = isRecord(network) && !("failures" in network!);
  if ("elastic" in plan && !networkLacks) return value;
  return {
    ...plan,
    ...(networkLacks ? { network: { ...network, failures: [] } } : {}),
    elastic: plan.elastic ?? null,
  };
}

/**
 * Checks any value against the plan format and every cross-slot rule. Nodes built by the DSL's
 * factories also bring what those did not understand in their options, at its path.
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
  return issuesOf(value, optionProblems(value));
}

/**
 * Renders issues one per line: `path: message (expected …, received …)`. Values from the plan
 * are cut (`clipEcho` in `strict_options.ts`): each path segment and the received value to about 60
 * characters, quoted values in the message and the expectation likewise, so a huge string or
 * array in a plan gives a short message that still names the field.
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
    .map((item) => {
      const path = item.path === "" ? "plan" : item.path.split(".").map(clipEcho).join(".");
      return `${path}: ${clipSentence(item.message)} (expected ${
        clipSentence(item.expected)
      }, received ${clipEcho(item.received)})`;
    })
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
  return parseCompiledPlan(value, optionProblems(value), source);
}

/**
 * Validates a plan that a pipeline assembled from its factories' nodes, with the problems those
 * noted (collected before the nodes became plain data).
 *
 * @param value The plan as plain data.
 * @param problems What the factories did not understand, with their paths in the plan.
 * @param source Where it came from, for the error message.
 * @returns The value as a {@linkcode Plan}.
 * @throws {PlanError} When there is any problem or issue.
 */
export function parseCompiledPlan(
  value: unknown,
  problems: readonly OptionProblem[],
  source = "plan",
): Plan {
  const issues = issuesOf(value, problems);
  if (issues.length > 0) throw new PlanError(issues, source);
  return withLateFields(value) as Plan;
}
