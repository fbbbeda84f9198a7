/**
 * A run folder that cannot be written any more: the disk is full, over quota, read-only or
 * failing. Such a write ends the run with a message that says so and names the file, instead
 * of surfacing later as a lost worker connection (the metrics sink runs inside the coordinator's
 * handler of a worker's messages) or a missing summary.
 *
 * @module
 */

import { basename, dirname } from "node:path";
import { messageOf } from "../errors.ts";

/** What each error code of a failed write says about the disk. */
const DISK_PROBLEMS: Readonly<Record<string, string>> = {
  ENOSPC: "The disk is full",
  EDQUOT: "The disk quota is used up",
  EROFS: "The disk is read-only",
  EIO: "The disk failed (input/output error)",
};

/** A write to the run folder failed because of the disk; the message names the file. */
export class DiskWriteError extends Error {
  /**
   * Builds the error.
   *
   * @param path The file that could not be written.
   * @param code The system's error code (`ENOSPC`, `EDQUOT`, `EROFS` or `EIO`).
   * @param cause The write's own error.
   */
  constructor(readonly path: string, readonly code: string, cause: unknown) {
    // The system's words without Deno's `: writefile '<temporary file>'`: the file is named.
    const system = messageOf(cause).replace(/: [a-z]+ '[^']*'$/, "");
    super(
      `${DISK_PROBLEMS[code]}: cannot write ${basename(path)} in ${dirname(path)} (${system})`,
      { cause },
    );
    this.name = "DiskWriteError";
  }
}

/**
 * The error a failed write of `path` becomes: a {@linkcode DiskWriteError} when the disk is the
 * cause, else the error itself.
 *
 * @param error The write's error.
 * @param path The file written (for a temporary file, the file it stands for).
 * @returns The error to throw.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { diskWriteError } from "./disk_full.ts";
 *
 * const full = Object.assign(
 *   new Error("No space left on device (os error 28): writefile 'runs/a/params.json.1.tmp'"),
 *   { code: "ENOSPC" },
 * );
 * assert.equal(
 *   (diskWriteError(full, "runs/a/params.json") as Error).message,
 *   "The disk is full: cannot write params.json in runs/a (No space left on device (os error 28))",
 * );
 * const other = new Error("Permission denied");
 * assert.equal(diskWriteError(other, "runs/a/params.json"), other);
 * ```
 */
export function diskWriteError(error: unknown, path: string): unknown {
  if (error instanceof DiskWriteError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && Object.hasOwn(DISK_PROBLEMS, code)
    ? new DiskWriteError(path, code, error)
    : error;
}
