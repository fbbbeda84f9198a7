/**
 * Runs the command line in a child process, as a user would, and captures what it printed.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";

/** What a CLI run printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The repository root. */
export const ROOT = new URL("../", import.meta.url);

/**
 * Runs `deno run -A cli.ts …args` from the repository root.
 *
 * @param args Command-line arguments.
 * @returns Exit code and output.
 */
export async function gossamer(...args: string[]): Promise<CliResult> {
  return await gossamerIn({}, ...args);
}

/**
 * Runs the command line from another folder or with more environment, as a user elsewhere
 * would (the files a command writes by default land in `cwd`).
 *
 * @param where `cwd` (default the repository root) and `env`, added to the inherited one.
 * @param args Command-line arguments.
 * @returns Exit code and output.
 */
export async function gossamerIn(
  where: { readonly cwd?: string; readonly env?: Record<string, string> },
  ...args: string[]
): Promise<CliResult> {
  return await commandIn(
    Deno.execPath(),
    { cwd: where.cwd ?? fromFileUrl(ROOT), ...(where.env === undefined ? {} : { env: where.env }) },
    "run",
    "-A",
    "--quiet",
    fromFileUrl(new URL("cli.ts", ROOT)),
    ...args,
  );
}

/**
 * Runs any program (a `deno` subcommand, an installed `gossamer`) in `cwd`, without colours, and
 * captures what it printed.
 *
 * @param command The program.
 * @param where `cwd` and `env`, added to the inherited one.
 * @param args Its arguments.
 * @returns Exit code and output.
 */
export async function commandIn(
  command: string,
  where: { readonly cwd: string; readonly env?: Record<string, string> },
  ...args: string[]
): Promise<CliResult> {
  const output = await new Deno.Command(command, {
    args,
    cwd: where.cwd,
    env: { NO_COLOR: "1", ...where.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** A stack trace line, which the CLI must never print. */
export const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;
