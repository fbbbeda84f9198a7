/**
 * Loading a custom topology from a shareable JSON preset.
 *
 * A preset is `{ "name"?: string, "description"?: string, "weights": W | [W0, W1, …] }`: one
 * matrix is a static graph, a list gives per-step matrices used in turn. Loading only checks the
 * shape; whether the weights suit an algorithm (doubly stochastic for gossip, column-stochastic
 * for SGP, strongly connected, one node per worker) is `topologyProblems`' job, so a preset and a
 * hand-written plan get the same checks.
 *
 * @module
 */

import type { CustomTopology } from "./types.ts";
import { normalizeWeights } from "./_custom_weights.ts";
import { customTopology } from "./custom_topology.ts";
import { TopologyFileError } from "./topology_file_error.ts";

/**
 * Loads a custom topology from a JSON preset file, synchronously (plans are built
 * synchronously). The node's name is the preset's `name`, else the file name; its source is the
 * path. `description` is for people reading the file and is not kept.
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
 * import { fromFile } from "./mod.ts";
 *
 * const dir = Deno.makeTempDirSync();
 * const path = `${dir}/pair.json`;
 * Deno.writeTextFileSync(path, JSON.stringify({ weights: [[0.5, 0.5], [0.5, 0.5]] }));
 * const pair = fromFile(path);
 * assert.equal(pair.name, "pair.json");
 * assert.deepEqual(pair.weights, [[[0.5, 0.5], [0.5, 0.5]]]);
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
