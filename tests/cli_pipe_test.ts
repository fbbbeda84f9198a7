/**
 * `gossamer … | head`: a reader that stops reading closes the pipe, and the command line ends
 * quietly instead of printing an EPIPE error and a stack.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { ROOT } from "./_cli.ts";

/** Runs the command line with its standard output closed before it writes, as `| true` does. */
async function closedPipe(...args: string[]): Promise<{ code: number; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", fromFileUrl(new URL("cli.ts", ROOT)), ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  await child.stdout.cancel();
  const output = await child.output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("help, the version and output into a closed pipe end quietly", async () => {
  for (
    const args of [["--help"], ["run", "--help"], ["--version"], ["topology", "ring", "-n", "8"]]
  ) {
    const result = await closedPipe(...args);
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    assert.equal(result.stderr, "", args.join(" "));
  }
});
