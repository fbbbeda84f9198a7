/**
 * How messages name the command line, so that a printed command works where the user is.
 *
 * The rule: inside the gossamer repository the command is `deno task gossamer` (its deno.json
 * defines the task, and the README uses it); anywhere else it is `gossamer`, the command
 * `deno install` puts on the `PATH` (see docs/library.md). The library's own errors name no
 * command at all: the command line adds its hints ({@linkcode resumeHint}).
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import { relative, resolve } from "node:path";
import type { RunError } from "../runtime/run_types.ts";

/** The repository root, when gossamer runs from files on disk; else `null` (over http, JSR). */
function repositoryRoot(): string | null {
  const root = new URL("../", import.meta.url);
  return root.protocol === "file:" ? fromFileUrl(root) : null;
}

/**
 * The command the user types to run gossamer from `cwd`.
 *
 * @param cwd The working directory (default the process's).
 * @returns `deno task gossamer` inside the repository, `gossamer` elsewhere.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commandName } from "./command_name.ts";
 * assert.equal(commandName(new URL("../examples/", import.meta.url).pathname), "deno task gossamer");
 * assert.equal(commandName("/"), "gossamer");
 * ```
 */
export function commandName(cwd: string = Deno.cwd()): string {
  const root = repositoryRoot();
  if (root === null) return "gossamer";
  const inside = relative(root, resolve(cwd));
  return inside.startsWith("..") || inside.startsWith("/") ? "gossamer" : "deno task gossamer";
}

/**
 * The command line's hint for a failed run that a resume can continue, or `""`.
 *
 * @param error The run's error.
 * @param cwd The working directory (default the process's).
 * @returns A line to print after the error's message (starting with a newline), or `""`.
 */
export function resumeHint(error: RunError, cwd: string = Deno.cwd()): string {
  const checkpoint = error.resumable;
  if (checkpoint === null) return "";
  const command = `${commandName(cwd)} resume ${error.folder}`;
  return checkpoint.newest
    ? `\nContinue with: ${command}`
    : `\nContinue from it with: ${command} --from ${checkpoint.step} (or --fallback)`;
}
