/**
 * The error thrown when a topology preset file cannot be loaded.
 *
 * @module
 */

import { clipEcho, clipSentence } from "../strict_options.ts";

/**
 * Thrown by `fromFile` when a preset is missing, unreadable, not JSON, or has weights of the
 * wrong shape. The message names the file; `path` holds it for programs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromFile, TopologyFileError } from "./mod.ts";
 *
 * assert.throws(() => fromFile("no-such-preset.json"), TopologyFileError);
 * const error = new TopologyFileError("ring8.json", "file not found");
 * assert.equal(error.message, 'Cannot load topology file "ring8.json": file not found');
 * assert.equal(error.path, "ring8.json");
 * ```
 */
export class TopologyFileError extends Error {
  /** The file that could not be loaded. */
  readonly path: string;

  /**
   * Creates the error; the message reads `Cannot load topology file "<path>": <detail>`.
   *
   * @param path The preset file.
   * @param detail What is wrong with it.
   * @param options The underlying error as `cause`, if any.
   */
  constructor(path: string, detail: string, options?: ErrorOptions) {
    super(`Cannot load topology file "${clipEcho(path)}": ${clipSentence(detail)}`, options);
    this.name = "TopologyFileError";
    this.path = path;
  }
}
