/**
 * Writes a file so that a failure never leaves it half-written: the text goes to a temporary
 * file beside the target, which is then renamed over it.
 *
 * @module
 */

import { CliInputError } from "./errors.ts";
import { messageOf } from "../runtime/errors.ts";

/**
 * Writes `text` to `path` atomically.
 *
 * @param path The target file.
 * @param text Its new content.
 * @throws {CliInputError} When the file cannot be written, naming the path and the reason.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temporary = `${path}.${Deno.pid}.tmp`;
  try {
    await Deno.writeTextFile(temporary, text);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    const reason = error instanceof Deno.errors.NotFound
      ? "its folder does not exist"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : messageOf(error);
    throw new CliInputError(`Cannot write "${path}": ${reason}`);
  }
}

/**
 * Writes a generated file that must not replace one already there unless asked: a job script
 * or manifest someone edited by hand is work that an unnoticed overwrite would lose. Like
 * {@linkcode writeFileAtomic}, a failure never leaves the file half-written; without `force` the
 * file appears through a hard link, which fails rather than replaces when the name is taken.
 *
 * @param path The target file.
 * @param text Its content.
 * @param options `force`: replace an existing file; `mode`: the permission bits the file is
 *   created with (0o600 for one holding a secret, never readable by others even for a moment).
 * @throws {CliInputError} When the file exists (without `force`) or cannot be written.
 */
export async function writeNewFile(
  path: string,
  text: string,
  options: { readonly force?: boolean; readonly mode?: number } = {},
): Promise<void> {
  const temporary = `${path}.${Deno.pid}.tmp`;
  try {
    await Deno.writeTextFile(
      temporary,
      text,
      options.mode === undefined ? {} : { mode: options.mode },
    );
    if (options.force) await Deno.rename(temporary, path);
    else await Deno.link(temporary, path);
  } catch (error) {
    const reason = error instanceof Deno.errors.AlreadyExists
      ? "it already exists (pass --force to replace it)"
      : error instanceof Deno.errors.NotFound
      ? "its folder does not exist"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : messageOf(error);
    throw new CliInputError(`Cannot write "${path}": ${reason}`);
  } finally {
    await Deno.remove(temporary).catch(() => {});
  }
}
