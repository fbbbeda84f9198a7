/**
 * Which modules a plan may make workers import. A plan is data that people share (a plan.json,
 * a run folder's plan, a preset), and a custom model's `module` is the one field of a plan that
 * a worker imports: without a rule, a plan.json whose module is a `data:` URL or an `https:`
 * address runs code its reader never chose, with the worker's permissions. So a module is a
 * file (a path relative to the plan, an absolute path or a `file:` URL); `http:` and `https:`
 * modules only when the user says so (`--allow-remote-modules`, or `allowRemoteModules` in the
 * run options); every other scheme (`data:`, `blob:`, `javascript:`, `npm:`, `jsr:` …) never,
 * since a local module file can import whatever it needs. The check is pure and runs wherever a
 * plan is loaded or run, before anything is imported.
 *
 * @module
 */

import type { Plan } from "../dsl/plan.ts";
import type { PlanIssue } from "../dsl/validate.ts";

/** What a plan's modules may be beyond local files. */
export interface ModulePolicy {
  /** Allow `http:` and `https:` modules (default false: only local files). */
  readonly allowRemoteModules?: boolean;
}

/** The command-line flag that allows remote modules, as messages name it. */
export const ALLOW_REMOTE_MODULES_FLAG = "--allow-remote-modules";

/** A URL scheme at the start of a specifier, as `file_refs.ts` recognises one. */
const SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/** The longest part of a refused specifier a message repeats. */
const SHOWN = 60;

/** The specifier as a message shows it: quoted, cut after {@linkcode SHOWN} characters. */
function shown(specifier: string): string {
  const cut = specifier.length > SHOWN ? `${specifier.slice(0, SHOWN)}…` : specifier;
  return JSON.stringify(cut);
}

/**
 * Why a module specifier may not be imported under a policy, or `null` when it may. The
 * reason does not repeat the specifier (the issue's `received` does, cut short).
 *
 * @param specifier The module, as the plan writes it.
 * @param policy Whether remote modules are allowed.
 * @returns The reason, or `null`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { moduleProblem } from "./module_refs.ts";
 *
 * assert.equal(moduleProblem("./model.ts", {}), null);
 * assert.equal(moduleProblem("file:///srv/model.ts", {}), null);
 * assert.equal(moduleProblem("https://example.com/m.ts", { allowRemoteModules: true }), null);
 * assert.match(moduleProblem("https://example.com/m.ts", {})!, /--allow-remote-modules/);
 * assert.match(moduleProblem("data:text/javascript,1", { allowRemoteModules: true })!, /data:/);
 * ```
 */
export function moduleProblem(specifier: string, policy: ModulePolicy): string | null {
  // A Windows drive letter (`C:\…`) is a path, not a scheme.
  const scheme = /^[a-z]:[\\/]/i.test(specifier)
    ? null
    : SCHEME.exec(specifier)?.[1]?.toLowerCase() ?? null;
  if (scheme === null) return null;
  if (scheme === "file") return fileUrlProblem(specifier);
  if (scheme === "http" || scheme === "https") {
    if (policy.allowRemoteModules) return null;
    return `a remote (${scheme}:) module is refused unless remote modules are allowed: ` +
      `download it, check it, save it next to the plan and write its path relative to the plan ` +
      `(such as "./model.ts"), or pass ${ALLOW_REMOTE_MODULES_FLAG} (allowRemoteModules: true ` +
      `in the run options) if you trust whoever serves it`;
  }
  return `a ${scheme}: URL is never imported: a plan's modules are files, so that a plan runs ` +
    `no code its reader did not choose; save the module as a file next to the plan and write ` +
    `its path relative to the plan (such as "./model.ts")`;
}

/** A `file:` URL must name a file on this host: no other host, no malformed URL. */
function fileUrlProblem(specifier: string): string | null {
  let host: string;
  try {
    host = new URL(specifier).hostname;
  } catch {
    return "a file: URL that cannot be parsed is refused: write the module's path instead";
  }
  if (host === "" || host === "localhost") return null;
  return `a file: URL naming another host is refused (a file on a share is not a file of ` +
    `the plan): copy the module next to the plan and write its path relative to the plan`;
}

/**
 * The issues of a plan's module references under a policy: the custom model's `module`, the
 * only field a worker imports (data files and topology presets are read and parsed, never
 * imported).
 *
 * @param plan A valid plan.
 * @param policy Whether remote modules are allowed.
 * @returns One issue per refused module, with the plan field that names it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { moduleIssues } from "./module_refs.ts";
 * import { allReduce, custom, mnist, sgd, train } from "../mod.ts";
 *
 * const plan = train(custom({ module: "data:text/javascript,export default 1" })).data(mnist())
 *   .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
 * assert.deepEqual(moduleIssues(plan, {}).map((issue) => issue.path), ["model.module"]);
 * ```
 */
export function moduleIssues(plan: Plan, policy: ModulePolicy): PlanIssue[] {
  if (plan.model.kind !== "custom") return [];
  const problem = moduleProblem(plan.model.module, policy);
  if (problem === null) return [];
  return [{
    path: "model.module",
    message: problem,
    expected: policy.allowRemoteModules
      ? "a module file, or an http: or https: URL"
      : "a module file (a path relative to the plan)",
    received: shown(plan.model.module),
  }];
}
