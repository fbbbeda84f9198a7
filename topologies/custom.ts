/**
 * Custom topologies: explicit mixing matrices, written by hand or loaded from a shareable preset
 * file.
 *
 * A preset is JSON: `{ "name"?: string, "description"?: string, "weights": W | [W0, W1, …] }`.
 * One matrix is a static graph; a list is used in turn, matrix `step mod length` at step `step`.
 * Matrices follow the receiver convention (row `i` is what rank `i` takes from rank `j`).
 *
 * Loading only checks the shape (square, consistent sizes, finite non-negative numbers).
 * Whether the weights suit an algorithm (doubly stochastic for gossip, column-stochastic for
 * SGP, strongly connected, one node per worker) is decided by `topologyProblems`, so hand-built
 * plans and loaded presets go through the same checks.
 *
 * @module
 */

import type { CustomTopology } from "./types.ts";
import type { Matrix } from "./matrix.ts";
import { normalizeWeights } from "./_weights.ts";

/**
 * Thrown by {@linkcode fromFile} when a preset cannot be read or has the wrong shape. The message
 * names the file; `path` holds it for programs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromFile, TopologyFileError } from "./mod.ts";
 *
 * assert.throws(() => fromFile("no-such-preset.json"), TopologyFileError);
 * ```
 */
export class TopologyFileError extends Error {
  /** The file that could not be loaded. */
  readonly path: string;

  /**
   * Creates the error.
   *
   * @param path The preset file.
   * @param detail What is wrong with it.
   * @param options The underlying error, if any.
   */
  constructor(path: string, detail: string, options?: ErrorOptions) {
    super(`Cannot load topology file "${path}": ${detail}`, options);
    this.name = "TopologyFileError";
    this.path = path;
  }
}

/** Options of {@linkcode customTopology}. */
export interface CustomTopologyOptions {
  /** Human-readable name, shown as `custom <name>`. */
  readonly name: string;
  /** Where the weights came from, for messages; default `"inline"`. */
  readonly source?: string;
}

/**
 * Builds a custom topology from explicit weights: one matrix (static) or a list of per-step
 * matrices. The weights are copied and frozen.
 *
 * @param weights An n×n matrix, or a non-empty list of n×n matrices.
 * @param options The name and source shown in messages.
 * @returns A frozen `{ kind: "custom", name, source, weights }` node (weights always a list).
 * @throws {TypeError} When the weights are not square, differ in size, or hold anything but
 * finite non-negative numbers.
 *
 * @example Two ranks that swap halves every other step
 * ```ts
 * import assert from "node:assert/strict";
 * import { customTopology, mixingMatrix, period } from "./mod.ts";
 *
 * const identity = [[1, 0], [0, 1]];
 * const average = [[0.5, 0.5], [0.5, 0.5]];
 * const plan = customTopology([identity, average], { name: "lazy pair" });
 * assert.equal(period(plan, 2), 2);
 * assert.deepEqual(mixingMatrix(plan, 2, 3), average);
 * ```
 */
export function customTopology(
  weights: Matrix | readonly Matrix[],
  options: CustomTopologyOptions,
): CustomTopology {
  const result = normalizeWeights(weights);
  if (result.problem !== undefined) {
    throw new TypeError(`Cannot create custom topology "${options.name}": ${result.problem}`);
  }
  return Object.freeze({
    kind: "custom",
    name: options.name,
    source: options.source ?? "inline",
    weights: Object.freeze(
      result.matrices.map((matrix) => Object.freeze(matrix.map((row) => Object.freeze(row)))),
    ),
  });
}

/**
 * Loads a custom topology from a JSON preset file, synchronously (plans are built synchronously).
 * The node's name is the preset's `name`, else the file name; its source is the path.
 *
 * @param path The preset file, as a path or a `file:` URL.
 * @returns A frozen custom topology node.
 * @throws {TopologyFileError} When the file is missing or unreadable, is not valid JSON, is not
 * an object with `weights`, or the weights have the wrong shape (not square, sizes that differ,
 * non-numbers, negative weights).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromFile, mixingMatrix } from "./mod.ts";
 *
 * const dir = Deno.makeTempDirSync();
 * const path = `${dir}/pair.json`;
 * Deno.writeTextFileSync(path, JSON.stringify({ weights: [[0.5, 0.5], [0.5, 0.5]] }));
 * const pair = fromFile(path);
 * assert.equal(pair.name, "pair.json");
 * assert.deepEqual(mixingMatrix(pair, 2), [[0.5, 0.5], [0.5, 0.5]]);
 * Deno.removeSync(dir, { recursive: true });
 * ```
 */
export function fromFile(path: string | URL): CustomTopology {
  const source = typeof path === "string"
    ? path
    : path.protocol === "file:"
    ? decodeURIComponent(path.pathname)
    : path.href;
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    const detail = error instanceof Deno.errors.NotFound
      ? "file not found"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new TopologyFileError(source, detail, { cause: error });
  }
  let preset: unknown;
  try {
    preset = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new TopologyFileError(source, `invalid JSON: ${message}`, { cause: error });
  }
  if (typeof preset !== "object" || preset === null || Array.isArray(preset)) {
    throw new TopologyFileError(source, 'expected an object with "weights"');
  }
  const { name, description, weights } = preset as Record<string, unknown>;
  for (const [key, value] of [["name", name], ["description", description]] as const) {
    if (value !== undefined && typeof value !== "string") {
      throw new TopologyFileError(source, `${key} must be a string, got ${JSON.stringify(value)}`);
    }
  }
  if (weights === undefined) throw new TopologyFileError(source, 'missing "weights"');
  const result = normalizeWeights(weights);
  if (result.problem !== undefined) throw new TopologyFileError(source, result.problem);
  const fileName = source.split(/[\\/]/).pop() || source;
  return customTopology(result.matrices, {
    name: typeof name === "string" && name !== "" ? name : fileName,
    source,
  });
}
