/**
 * Checks what a plan refers to outside itself (data files, model modules) before anything runs,
 * so a missing file is reported with the plan's other issues instead of failing on a worker.
 * `validatePlan` stays pure; this is the one place that touches the file system.
 *
 * @module
 */

import type { Plan } from "../dsl/plan.ts";
import type { PlanIssue } from "../dsl/validate.ts";
import { byLabelClassIssues } from "../dsl/data/partition.ts";
import { type TextNode, textSizeIssues } from "../dsl/data/text.ts";
import { modelContext } from "../dsl/shapes.ts";
import { LeastSquaresFileError, readLeastSquares } from "./data/least_squares_file.ts";
import { readTensors, splitTensors, TensorsFileError } from "./data/tensors.ts";
import { readTextFile, TextDataError } from "./data/text.ts";

/** Whether a module specifier names a local file (a path or a `file:` URL). */
function localModulePath(specifier: string): string | null {
  if (specifier.startsWith("file:")) return decodeURIComponent(new URL(specifier).pathname);
  return /^[a-z][a-z0-9+.-]*:/i.test(specifier) ? null : specifier;
}

/**
 * Checks the plan's files: the least-squares shards (readable, one per worker, columns equal to
 * the linear model's `dim`), a `tensors` data set's files (readable, the arrays named present and
 * valid for the task, enough training examples for the workers, features equal to the linear
 * model's `dim`), a text file (readable UTF-8, long enough for the model's windows on
 * every worker and for evaluation) and a custom model's module (present, for local paths).
 *
 * @param plan A valid plan.
 * @returns Issues with the path of the plan field that names the file.
 */
export async function resourceIssues(plan: Plan): Promise<PlanIssue[]> {
  const issues: PlanIssue[] = [];
  if (plan.data.kind === "leastSquares") {
    const file = plan.data.file;
    try {
      const problem = await readLeastSquares(file);
      if (problem.shards.length !== plan.workers) {
        issues.push({
          path: "data.file",
          message: `"${file}" has ${problem.shards.length} shards but workers is ${plan.workers}`,
          expected: `${plan.workers} shards`,
          received: String(problem.shards.length),
        });
      }
      if (plan.model.kind === "linear" && plan.model.dim !== problem.dim) {
        issues.push({
          path: "model.dim",
          message:
            `linear dim ${plan.model.dim} does not match the ${problem.dim} columns of A in "${file}"`,
          expected: String(problem.dim),
          received: String(plan.model.dim),
        });
      }
    } catch (error) {
      if (!(error instanceof LeastSquaresFileError)) throw error;
      issues.push({
        path: "data.file",
        message: error.message,
        expected: "a readable least-squares shard file",
        received: JSON.stringify(file),
      });
    }
  }
  if (plan.data.kind === "text" && plan.data.file !== null) {
    issues.push(...await textFileIssues(plan.data, plan));
  }
  if (plan.data.kind === "tensors") issues.push(...await tensorsIssues(plan));
  if (plan.model.kind === "custom") {
    const path = localModulePath(plan.model.module);
    if (path !== null) {
      try {
        await Deno.stat(path);
      } catch {
        issues.push({
          path: "model.module",
          message: `model module "${plan.model.module}" not found`,
          expected: "an existing module file",
          received: JSON.stringify(plan.model.module),
        });
      }
    }
  }
  return issues;
}

/** A text file must be readable UTF-8 with a window for every worker and for evaluation. */
async function textFileIssues(node: TextNode, plan: Plan): Promise<PlanIssue[]> {
  let tokens: Uint8Array;
  try {
    tokens = await readTextFile(node.file!);
  } catch (error) {
    if (!(error instanceof TextDataError)) throw error;
    return [{
      path: "data.file",
      message: error.message,
      expected: "a readable UTF-8 text file",
      received: JSON.stringify(node.file),
    }];
  }
  const context = modelContext(plan.model);
  if (context === null) return [];
  return textSizeIssues(node, tokens.length, context, plan.workers).map((found) => ({
    path: `data.${found.path}`,
    message: found.message,
    expected: found.expected,
    received: JSON.stringify(found.received),
  }));
}

/** The plan field that names a file of a `tensors` data set. */
function tensorsField(plan: Plan, path: string): string {
  if (plan.data.kind !== "tensors") return "data";
  for (const [field, source] of [["data.train", plan.data.train], ["data.test", plan.data.test]]) {
    if (source === path) return field as string;
    if (typeof source === "object" && source !== null) {
      if (source.x === path) return `${field}.x`;
      if (source.y === path) return `${field}.y`;
    }
  }
  return "data";
}

/** Reads a `tensors` data set as its workers will, and reports what stops them. */
async function tensorsIssues(plan: Plan): Promise<PlanIssue[]> {
  if (plan.data.kind !== "tensors") return [];
  const node = plan.data;
  try {
    const dataset = await readTensors(node);
    const { train } = splitTensors(node, dataset, plan.seed);
    const issues: PlanIssue[] = [];
    if (train.size < plan.workers) {
      issues.push({
        path: "workers",
        message: `${train.size} training examples cannot be shared by ${plan.workers} workers`,
        expected: `at most ${train.size}`,
        received: String(plan.workers),
      });
    }
    if (plan.model.kind === "linear" && plan.model.dim !== dataset.features) {
      issues.push({
        path: "model.dim",
        message:
          `linear dim ${plan.model.dim} does not match the data's ${dataset.features} features`,
        expected: String(dataset.features),
        received: String(plan.model.dim),
      });
    }
    for (const issue of byLabelClassIssues(node.partition, dataset.classes)) {
      issues.push({ ...issue, path: `data.${issue.path}`, received: String(issue.received) });
    }
    return issues;
  } catch (error) {
    if (!(error instanceof TensorsFileError)) throw error;
    return [{
      path: tensorsField(plan, error.path),
      message: error.message,
      expected: "a readable data file of the arrays named",
      received: JSON.stringify(error.path),
    }];
  }
}
