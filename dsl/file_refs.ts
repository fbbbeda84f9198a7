/**
 * The fields of a plan that name files outside it: a custom model's module, the least-squares
 * shard file, the array files of `tensors` data and a text data file. Like imports, they are written relative to the file that holds the
 * plan (the pipeline module or plan JSON): `loadPlan` anchors them to absolute paths for running.
 * Every plan file gossamer writes (`relativeFileRefs` in runtime/coordinator/run_folder.ts) stores
 * a file relative to where it is written when the file lies in the same project as that place (the
 * nearest folder holding `.git`, `deno.json`, `deno.jsonc` or `package.json`), so a project and
 * its run folders can move to another machine or directory together, and absolute otherwise, so
 * a run folder outside the project can move on its own.
 *
 * @module
 */

import { deepFreeze } from "./_freeze.ts";
import type { Plan } from "./plan.ts";
import type { TensorsSource } from "./data/tensors.ts";

/** The plan field a file reference sits in. */
export type FileField =
  | "model.module"
  | "data.file"
  | "data.train"
  | "data.train.x"
  | "data.train.y"
  | "data.test"
  | "data.test.x"
  | "data.test.y";

/**
 * The plan with each file reference replaced by `map(reference, field)`.
 *
 * @param plan A plan.
 * @param map The new reference for each.
 * @returns A new frozen plan (the same plan when it names no files).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mapFileRefs } from "./file_refs.ts";
 * import { allReduce, leastSquares, linear, sgd, train } from "../mod.ts";
 *
 * const plan = train(linear({ dim: 3 })).data(leastSquares({ file: "shards.json" }))
 *   .workers(4).optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
 * const moved = mapFileRefs(plan, (ref) => `data/${ref}`);
 * assert.equal(moved.data.kind === "leastSquares" && moved.data.file, "data/shards.json");
 * ```
 */
export function mapFileRefs(
  plan: Plan,
  map: (reference: string, field: FileField) => string,
): Plan {
  const model = plan.model.kind === "custom"
    ? { ...plan.model, module: map(plan.model.module, "model.module") }
    : plan.model;
  const data = (plan.data.kind === "leastSquares" || plan.data.kind === "text") &&
      plan.data.file !== null
    ? { ...plan.data, file: map(plan.data.file, "data.file") }
    : plan.data.kind === "tensors"
    ? {
      ...plan.data,
      train: mapSource(plan.data.train, "data.train", map),
      test: plan.data.test === null ? null : mapSource(plan.data.test, "data.test", map),
    }
    : plan.data;
  if (model === plan.model && data === plan.data) return plan;
  return deepFreeze({ ...plan, model, data });
}

/** A `tensors` source with each of its files mapped. */
function mapSource(
  source: TensorsSource,
  field: "data.train" | "data.test",
  map: (reference: string, field: FileField) => string,
): TensorsSource {
  return typeof source === "string"
    ? map(source, field)
    : { x: map(source.x, `${field}.x`), y: map(source.y, `${field}.y`) };
}

/** A URL scheme (`file:`, `https:`, `npm:`, `data:` …) at the start of a reference. */
const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/**
 * Whether a reference is a path relative to something (not absolute, not a URL).
 *
 * @param reference A file reference.
 * @returns `true` for `./model.ts` or `data/shards.json`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isRelativeRef } from "./file_refs.ts";
 *
 * assert.deepEqual(
 *   ["./m.ts", "m.ts", "/abs/m.ts", "file:///abs/m.ts", "npm:x"].map(isRelativeRef),
 *   [true, true, false, false, false],
 * );
 * ```
 */
export function isRelativeRef(reference: string): boolean {
  return !reference.startsWith("/") && !SCHEME.test(reference);
}
