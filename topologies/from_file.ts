/**
 * Loading a custom topology from a shareable JSON preset file.
 *
 * A preset is `{ "name"?: string, "description"?: string, "weights": W | [W0, W1, …] }`
 * (docs/topology_preset.schema.json): one matrix is a static graph, a list gives per-step
 * matrices used in turn. Loading only checks the shape; whether the weights suit an algorithm
 * (doubly stochastic for gossip, column-stochastic for SGP, strongly connected, one node per
 * worker) is `topologyProblems`' job, so a preset and a hand-written plan get the same checks.
 *
 * A relative path is relative to the module that calls `fromFile`, as an import is, so a
 * pipeline module's `fromFile("./presets/x.json")` finds the preset beside the pipeline from
 * whatever folder it is run, the way its model module and data files are found. The weights
 * are read once and travel inside the plan: a plan file runs without the preset.
 *
 * @module
 */

import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { CustomTopology } from "./types.ts";
import { parsePreset } from "./_preset.ts";
import { TopologyFileError } from "./topology_file_error.ts";

/**
 * Loads a custom topology from a JSON preset file, synchronously (plans are built
 * synchronously). The node's name is the preset's `name`, else the file name; its source is the
 * file's absolute path. `description` is for people reading the file and is not kept. A preset
 * at an `https:` URL is fetched with `await fetchPreset(url)`.
 *
 * @param path The preset file: a path (relative to the calling module, as an import is) or a
 *   `file:` URL.
 * @returns A frozen custom topology node.
 * @throws {TopologyFileError} When the file is missing or unreadable, is not valid JSON, is not
 * an object with `weights`, has an unknown key, or the weights have the wrong shape (not square,
 * sizes that differ, non-numbers, negative weights); or `path` is a URL other than `file:`.
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
  const source = presetPath(path, callerUrl());
  let text: string;
  try {
    text = Deno.readTextFileSync(source);
  } catch (error) {
    const detail = error instanceof Deno.errors.NotFound
      ? "file not found"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new TopologyFileError(source, detail, { cause: error });
  }
  return parsePreset(text, source);
}

/**
 * The absolute path of a preset: a `file:` URL's path, an absolute path as it is, a relative one
 * resolved against the calling module's folder (the working directory when the caller is not a
 * local file: a REPL, `eval`).
 */
function presetPath(path: string | URL, caller: string | null): string {
  const url = path instanceof URL ? path : /^[a-z][a-z0-9+.-]+:/i.test(path) ? tryUrl(path) : null;
  if (url !== null) {
    if (url.protocol === "file:") return fileURLToPath(url);
    throw new TopologyFileError(
      url.href,
      `fromFile reads local files; a preset at an ${url.protocol} URL is fetched (and validated, never imported) with await fetchPreset(url)`,
    );
  }
  const text = path as string;
  if (isAbsolute(text)) return text;
  if (caller !== null && caller.startsWith("file:")) {
    return resolve(dirname(fileURLToPath(caller)), text);
  }
  if (caller !== null && /^https?:/.test(caller)) {
    throw new TopologyFileError(
      text,
      `a remote module (${caller}) cannot read a preset beside it with fromFile: use await fetchPreset(new URL(${
        JSON.stringify(text)
      }, import.meta.url))`,
    );
  }
  return resolve(text);
}

/** A URL, or `null` for text that does not parse as one (a Windows path like `C:\x.json`). */
function tryUrl(text: string): URL | null {
  try {
    const url = new URL(text);
    return url.protocol.length > 2 ? url : null;
  } catch {
    return null;
  }
}

/** The URL of the module that called `fromFile`, from the stack; `null` when none shows. */
function callerUrl(): string | null {
  const holder: { stack?: string } = {};
  Error.captureStackTrace(holder, fromFile);
  for (const line of (holder.stack ?? "").split("\n").slice(1)) {
    const match = /((?:file|https?):\/\/.+?):\d+:\d+\)?$/.exec(line.trim());
    if (match !== null) return match[1]!;
  }
  return null;
}
