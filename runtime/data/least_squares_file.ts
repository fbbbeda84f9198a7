import { messageOf } from "../errors.ts";
/**
 * Reads and checks the least-squares shard file `{"shards":[{"A":[[…]],"b":[…]}, …]}`: one
 * shard per worker, every `A_i` with the same number of columns, `b_i` with one value per row.
 *
 * @module
 */

/** One worker's least-squares data. */
export interface LeastSquaresShard {
  readonly A: readonly (readonly number[])[];
  readonly b: readonly number[];
}

/** The parsed file: shards and the common number of columns (the model dimension). */
export interface LeastSquaresProblem {
  readonly shards: readonly LeastSquaresShard[];
  readonly dim: number;
}

/** The file cannot be read or does not hold a valid problem. */
export class LeastSquaresFileError extends Error {
  /**
   * @param path The file.
   * @param detail What is wrong.
   */
  constructor(readonly path: string, readonly detail: string) {
    super(`Cannot read least-squares file "${path}": ${detail}`);
    this.name = "LeastSquaresFileError";
  }
}

/** Whether a value is an array of finite numbers. */
function isNumberRow(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((x) => typeof x === "number" && Number.isFinite(x));
}

/**
 * Checks a parsed JSON value and returns it as a least-squares problem.
 *
 * @param value The parsed JSON.
 * @param path The file it came from, for messages.
 * @returns The shards and their common dimension.
 * @throws {LeastSquaresFileError} Naming the first shard and field that is wrong.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLeastSquares } from "./least_squares_file.ts";
 * const problem = parseLeastSquares({ shards: [{ A: [[1, 0], [0, 1]], b: [1, 2] }] }, "x.json");
 * assert.ok(problem.dim === 2);
 * ```
 */
export function parseLeastSquares(value: unknown, path: string): LeastSquaresProblem {
  const shards = (value as { shards?: unknown } | null)?.shards;
  if (!Array.isArray(shards) || shards.length === 0) {
    throw new LeastSquaresFileError(path, `expected {"shards": [{"A": [[…]], "b": […]}, …]}`);
  }
  let dim = -1;
  shards.forEach((shard: { A?: unknown; b?: unknown } | null, i) => {
    const A = shard?.A;
    const b = shard?.b;
    if (!Array.isArray(A) || A.length === 0 || !A.every(isNumberRow)) {
      throw new LeastSquaresFileError(path, `shard ${i}: A must be a non-empty matrix of numbers`);
    }
    if (!isNumberRow(b)) {
      throw new LeastSquaresFileError(path, `shard ${i}: b must be an array of numbers`);
    }
    if (b.length !== A.length) {
      throw new LeastSquaresFileError(
        path,
        `shard ${i}: b has ${b.length} values but A has ${A.length} rows`,
      );
    }
    for (const [r, row] of A.entries()) {
      if (dim === -1) dim = row.length;
      if (row.length !== dim || dim === 0) {
        throw new LeastSquaresFileError(
          path,
          `shard ${i}: row ${r} of A has ${row.length} columns but expected ${dim}`,
        );
      }
    }
  });
  return { shards: shards as LeastSquaresShard[], dim };
}

/**
 * Reads a least-squares shard file.
 *
 * @param path The file (relative paths against the working directory).
 * @returns The shards and their dimension.
 * @throws {LeastSquaresFileError} When the file is missing, not JSON, or malformed.
 */
export async function readLeastSquares(path: string): Promise<LeastSquaresProblem> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new LeastSquaresFileError(
      path,
      error instanceof Deno.errors.NotFound ? "file not found" : String(error),
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LeastSquaresFileError(path, `invalid JSON: ${messageOf(error)}`);
  }
  return parseLeastSquares(value, path);
}
