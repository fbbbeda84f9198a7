/**
 * Internal shape checks for explicit weights, shared by `fromFile`, `customTopology` and
 * `topologyProblems` (a custom node may also arrive as JSON inside a plan, unchecked).
 *
 * Only the shape is checked here: square, same size for every step, finite and non-negative.
 * Stochasticity and connectivity depend on the algorithm and are `topologyProblems`' job.
 *
 * @module
 */

import { clipEcho } from "../strict_options.ts";
import { entries } from "./_args.ts";

/** Either the validated per-step matrices, or the first problem found. */
export type WeightsResult =
  | { readonly matrices: number[][][]; readonly problem?: undefined }
  | { readonly problem: string };

/**
 * Validates one matrix or a list of per-step matrices (the preset format) and returns copies as a
 * list. A value whose first row's first entry is an array is read as a list.
 */
export function normalizeWeights(value: unknown): WeightsResult {
  if (!Array.isArray(value) || value.length === 0) {
    return { problem: "weights must be a non-empty matrix or list of matrices" };
  }
  const first = value[0];
  const isList = Array.isArray(first) && Array.isArray(first[0]);
  return isList
    ? checkMatrices(value, (s) => `weights[${s}]`)
    : checkMatrices([value], () => "weights");
}

/** Validates a list of per-step matrices, as stored in a `CustomTopology` node. */
export function checkWeightList(value: unknown): WeightsResult {
  if (!Array.isArray(value) || value.length === 0) {
    return { problem: "weights must be a non-empty list of matrices" };
  }
  return checkMatrices(value, (s) => `weights[${s}]`);
}

function checkMatrices(list: readonly unknown[], label: (step: number) => string): WeightsResult {
  const matrices: number[][][] = [];
  for (let s = 0; s < list.length; s++) {
    const result = checkMatrix(list[s], label(s));
    if (typeof result === "string") return { problem: result };
    const size = matrices[0]?.length;
    if (size !== undefined && result.length !== size) {
      return {
        problem: `${label(s)} is ${result.length}×${result.length} but ${
          label(0)
        } is ${size}×${size}`,
      };
    }
    matrices.push(result);
  }
  return { matrices };
}

function checkMatrix(value: unknown, path: string): number[][] | string {
  if (!Array.isArray(value) || value.length === 0) {
    return `${path} must be a non-empty list of rows`;
  }
  const n = value.length;
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: unknown = value[i];
    if (!Array.isArray(row)) return `${path}[${i}] is ${describe(row)}, not a row of numbers`;
    if (row.length !== n) {
      return `${path}[${i}] has ${entries(row.length)} but ${path} has ${n} rows`;
    }
    for (let j = 0; j < n; j++) {
      const entry: unknown = row[j];
      if (typeof entry !== "number" || !Number.isFinite(entry)) {
        return `${path}[${i}][${j}] is ${describe(entry)}, not a number`;
      }
      if (entry < 0) return `${path}[${i}][${j}] is negative: ${entry}`;
    }
    rows.push([...row as number[]]);
  }
  return rows;
}

function describe(value: unknown): string {
  if (typeof value === "string") return clipEcho(JSON.stringify(value));
  if (typeof value === "number") return `"${value}"`;
  if (value === undefined) return "missing";
  return `"${clipEcho(JSON.stringify(value))}"`;
}
