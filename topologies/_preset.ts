/**
 * Reading a preset's content, shared by `fromFile` (a file) and `fetchPreset` (a URL): the
 * object's keys, then the weights' shape (`normalizeWeights`). Whether the weights suit an
 * algorithm is `topologyProblems`' job.
 *
 * @module
 */

import type { CustomTopology } from "./types.ts";
import { normalizeWeights } from "./_custom_weights.ts";
import { customTopology } from "./custom_topology.ts";
import { TopologyFileError } from "./topology_file_error.ts";
import { clipEcho } from "../strict_options.ts";

/**
 * The keys a preset may have. Any other is refused, so a misspelt `"weight"` is named rather
 * than read as a preset with no weights; `$schema` lets editors check the file.
 */
export const PRESET_KEYS: readonly string[] = ["$schema", "name", "description", "weights"];

/**
 * Parses a preset's text into a custom topology.
 *
 * @param text The file's or response's text.
 * @param source The path or URL, kept as the node's `source` and named in errors.
 * @returns The frozen node; its name is the preset's `name`, else the last part of `source`.
 * @throws {TopologyFileError} When the text is not JSON, not an object with `weights`, has an
 *   unknown key, or the weights have the wrong shape.
 */
export function parsePreset(text: string, source: string): CustomTopology {
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
  const unknown = Object.keys(preset).find((key) => !PRESET_KEYS.includes(key));
  if (unknown !== undefined) {
    throw new TopologyFileError(
      source,
      `unknown key ${
        clipEcho(JSON.stringify(unknown))
      }: a preset has "weights", and optionally "name", "description" and "$schema"`,
    );
  }
  const { $schema, name, description, weights } = preset as Record<string, unknown>;
  for (
    const [key, value] of [["name", name], ["description", description], ["$schema", $schema]]
  ) {
    if (value !== undefined && typeof value !== "string") {
      throw new TopologyFileError(
        source,
        `${key} must be a string, got ${clipEcho(JSON.stringify(value))}`,
      );
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
