/**
 * Loads a plan from either input users keep: a plan JSON file or a pipeline module whose
 * default export is a pipeline (or a plan). Both paths end in the same validation, so the two
 * are interchangeable everywhere a plan is accepted.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isRelativeRef, mapFileRefs } from "../dsl/file_refs.ts";
import { deepFreeze } from "../dsl/_freeze.ts";
import type { Plan } from "../dsl/plan.ts";
import { isPipeline } from "../dsl/train.ts";
import { parsePlan, PlanError } from "../dsl/validate.ts";
import { resourceIssues } from "./resources.ts";
import { moduleIssues, type ModulePolicy } from "./module_refs.ts";
import { messageOf } from "./errors.ts";

/** The input file cannot be read or imported (as opposed to holding an invalid plan). */
export class PlanLoadError extends Error {
  /**
   * Builds the error; the message is `Cannot load "<path>": <detail>`.
   *
   * @param path The input file.
   * @param detail What went wrong.
   */
  constructor(readonly path: string, readonly detail: string) {
    super(`Cannot load "${path}": ${detail}`);
    this.name = "PlanLoadError";
  }
}

/** Reads and parses a plan JSON file. */
async function readPlanJson(path: string): Promise<unknown> {
  const text = await Deno.readTextFile(path);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PlanLoadError(path, `invalid JSON: ${messageOf(error)}`);
  }
}

/** Imports a pipeline module and returns its default export as a plan. */
async function importPipeline(path: string): Promise<Plan> {
  let module: Record<string, unknown>;
  try {
    module = await import(pathToFileURL(resolve(path)).href);
  } catch (error) {
    const detail = messageOf(error).split("\n")[0];
    throw new PlanLoadError(path, `the module failed to load: ${detail}`);
  }
  const exported = module.default;
  if (exported === undefined) {
    throw new PlanLoadError(
      path,
      "the module has no default export: add `export default train(…)`",
    );
  }
  if (!isPipeline(exported)) return parsePlan(exported, path);
  try {
    return exported.compile();
  } catch (error) {
    // Name the file rather than "plan" in the message.
    if (error instanceof PlanError) throw new PlanError(error.issues, path);
    throw new PlanLoadError(path, `compile() failed: ${messageOf(error)}`);
  }
}

/**
 * The path of a `file:` URL, or `null` when it names another host or does not parse: such a
 * reference stays as written, and reading it fails with a message naming its field.
 */
function localPath(url: string): string | null {
  try {
    return fileURLToPath(url);
  } catch {
    return null;
  }
}

/**
 * Anchors a plan's file references (dsl/file_refs.ts) for running: relative paths are taken
 * relative to `folder`, the folder of the file the plan came from, and `file:` URLs become
 * paths; other URLs stay as they are.
 *
 * @param plan The plan.
 * @param folder The absolute folder of its file.
 * @returns The plan with absolute paths.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { anchorFileRefs } from "./load_plan.ts";
 * import { custom, mnist, sgd, allReduce, train } from "../mod.ts";
 *
 * const plan = train(custom({ module: "./model.ts" })).data(mnist()).optimizer(sgd({ lr: 0.1 }))
 *   .base(allReduce()).compile();
 * const anchored = anchorFileRefs(plan, "/work/project");
 * assert.equal(anchored.model.kind === "custom" && anchored.model.module, "/work/project/model.ts");
 * ```
 */
export function anchorFileRefs(plan: Plan, folder: string): Plan {
  return mapFileRefs(plan, (reference) => {
    if (reference.startsWith("file:")) return localPath(reference) ?? reference;
    return isRelativeRef(reference) ? resolve(folder, reference) : reference;
  });
}

/**
 * Loads, validates and checks a plan from a `.json` plan file or a pipeline module. File
 * references (a custom model's module, least-squares shards) are relative to the loaded file,
 * as imports are, and come back as absolute paths. A custom model's module must be a file
 * unless `allowRemoteModules` lets it be an `http:`/`https:` URL; other schemes (`data:` …) are
 * refused (runtime/module_refs.ts), here, before anything imports it.
 *
 * @param path The input file.
 * @param options `checkFiles` (default true): also check the files the plan refers to;
 *   `allowRemoteModules` (default false): accept `http:`/`https:` modules.
 * @returns The valid plan, frozen.
 * @throws {PlanLoadError} When the file is missing, unreadable or fails to import.
 * @throws {PlanError} When the plan is invalid.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadPlan, PlanLoadError } from "./load_plan.ts";
 * try {
 *   await loadPlan("no-such-pipeline.ts");
 * } catch (error) {
 *   assert.ok(error instanceof PlanLoadError);
 * }
 * ```
 */
export async function loadPlan(
  path: string,
  options: { readonly checkFiles?: boolean } & ModulePolicy = {},
): Promise<Plan> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) throw new PlanLoadError(path, "not a file");
  } catch (error) {
    if (error instanceof PlanLoadError) throw error;
    throw new PlanLoadError(
      path,
      error instanceof Deno.errors.NotFound ? "file not found" : String(error),
    );
  }
  const loaded = path.endsWith(".json")
    ? parsePlan(await readPlanJson(path), path)
    : await importPipeline(path);
  const refused = moduleIssues(loaded, options);
  if (refused.length > 0) throw new PlanError(refused, path);
  const plan = anchorFileRefs(loaded, dirname(resolve(path)));
  if (options.checkFiles ?? true) {
    const issues = await resourceIssues(plan);
    if (issues.length > 0) throw new PlanError(issues, path);
  }
  return deepFreeze(plan);
}
