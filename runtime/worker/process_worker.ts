/**
 * Entry point of a process worker started by the coordinator (`--launch processes`): reads its
 * launch parameters as one JSON object ({@linkcode WorkerLaunch}) from standard input, runs
 * {@linkcode runWorker} (the same code path as a thread worker), and exits 0, or 1 after
 * printing the failure (which names the worker and the cause) as the last line of standard
 * error, where the launcher reads it.
 *
 * Workers started by hand, on this host or others, use `gossamer worker` instead.
 *
 * @module
 */

import { runWorker, type WorkerLaunch } from "./worker_main.ts";

/**
 * Runs one process worker from a launch description.
 *
 * @param input The JSON text of a {@linkcode WorkerLaunch}.
 * @returns The exit code: 0 on success, 1 on failure (the message is printed to stderr).
 */
export async function runProcessWorker(input: string): Promise<number> {
  try {
    await runWorker(JSON.parse(input) as WorkerLaunch);
    return 0;
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

if (import.meta.main) {
  Deno.exitCode = await runProcessWorker(await new Response(Deno.stdin.readable).text());
}
