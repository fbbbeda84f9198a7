/**
 * Writes a file so that a failure never leaves it half-written: the text goes to a temporary
 * file beside the target, which is then renamed over it.
 *
 * @module
 */

import { CliInputError } from "./errors.ts";

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
      : (error as Error).message;
    throw new CliInputError(`Cannot write "${path}": ${reason}`);
  }
}
