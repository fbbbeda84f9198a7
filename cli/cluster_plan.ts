/**
 * What `gossamer slurm` and `gossamer k8s` share: loading the plan they ship (with the worker
 * count the cluster will really start), a default name from the pipeline's file name, and the
 * plan as the file the workers will read.
 *
 * @module
 */

import { basename, extname } from "node:path";
import type { Plan } from "../dsl/plan.ts";
import { parsePlan, PlanError } from "../dsl/validate.ts";
import { loadPlan } from "../runtime/load_plan.ts";
import { resourceIssues } from "../runtime/resources.ts";
import { relativeFileRefs } from "../runtime/coordinator/run_folder.ts";

/**
 * Loads and validates a plan, with its workers replaced by `workers` when given (as
 * `gossamer run --workers` does) and the result validated again, files included: a shard file
 * with four shards must not go to a cluster of eight.
 *
 * @param input A pipeline module or plan JSON file.
 * @param workers The worker count to override the plan's, if any.
 * @returns The valid plan, file references absolute.
 */
export async function loadClusterPlan(input: string, workers?: number): Promise<Plan> {
  const plan = await loadPlan(input);
  if (workers === undefined || workers === plan.workers) return plan;
  const source = `${input} with --workers ${workers}`;
  const overridden = parsePlan({ ...plan, workers }, source);
  const issues = await resourceIssues(overridden);
  if (issues.length > 0) throw new PlanError(issues, source);
  return overridden;
}

/**
 * The plan as the generated files embed it: exactly what `gossamer plan --json` prints from the
 * same folder, file references in the working directory's project relative to it (the rule of
 * `relativeFileRefs`), others absolute. Jobs are submitted from that folder (Slurm) or built into
 * the image from it (Kubernetes), so the references resolve there.
 *
 * @param plan A loaded plan.
 * @returns Its JSON text, indented.
 */
export function portablePlanJson(plan: Plan): string {
  return JSON.stringify(relativeFileRefs(plan, Deno.cwd()), null, 2);
}

/**
 * The file references of the plan as embedded that do not lie inside the working directory
 * (`../model.ts`, `/data/shards.json`): an image built from this folder does not hold them.
 *
 * @param planJson The embedded plan (from {@linkcode portablePlanJson}).
 * @returns The references, possibly none.
 */
export function referencesOutsideHere(planJson: string): string[] {
  const plan = JSON.parse(planJson) as Plan;
  const references = [
    plan.model.kind === "custom" ? plan.model.module : null,
    plan.data.kind === "leastSquares" || plan.data.kind === "text" ? plan.data.file : null,
  ];
  return references.filter((reference): reference is string =>
    reference !== null && (reference.startsWith("/") || reference.startsWith("../"))
  );
}

/**
 * The pipeline's file name without its extension, the default name of a job:
 * `examples/quickstart.ts` gives `quickstart`.
 *
 * @param input The pipeline module or plan file.
 * @returns The stem of its file name.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fileStem } from "./cluster_plan.ts";
 * assert.equal(fileStem("examples/all_reduce_mnist.ts"), "all_reduce_mnist");
 * assert.equal(fileStem("/tmp/plan.json"), "plan");
 * ```
 */
export function fileStem(input: string): string {
  const name = basename(input);
  return name.slice(0, name.length - extname(name).length);
}
