/**
 * Entry point of a process worker started by the coordinator (`--launch processes`): reads its
 * launch parameters as one JSON object ({@linkcode ProcessLaunch}) from standard input (the run's
 * secret among them, which is why they never travel on the command line), runs
 * {@linkcode runWorker} (the same code path as a thread worker), or with `local` several
 * consecutive workers as threads that share memory, and exits 0, or 1 after printing the failure
 * (which names the worker and the cause) as the last line of standard error, where the launcher
 * reads it.
 *
 * Workers started by hand, on this host or others, use `gossamer worker` instead.
 *
 * @module
 */

import { runWorkerGroup } from "./thread_group.ts";
import { runWorker, type WorkerLaunch } from "./worker_main.ts";
import { messageOf } from "../errors.ts";
import { isTimeout, TIMEOUT_RANGE } from "../timeouts.ts";

/** What a worker process is told: its (first) worker's launch, and how many workers it runs. */
export interface ProcessLaunch extends WorkerLaunch {
  /** Consecutive workers from `rank` on, run as threads that share memory (default 1). */
  readonly local?: number;
}

/** Reads a launch description, or says what is wrong with it. */
function parseLaunch(input: string): ProcessLaunch {
  let value: unknown;
  try {
    value = JSON.parse(input);
  } catch (error) {
    throw new Error(`the input is not JSON (${messageOf(error)})`);
  }
  const launch = value as Partial<ProcessLaunch> | null;
  const problems = [
    typeof launch !== "object" || launch === null ? "an object" : null,
    Number.isInteger(launch?.rank) ? null : "an integer rank",
    Number.isInteger(launch?.world) ? null : "an integer world",
    typeof launch?.rendezvous === "string" ? null : "a rendezvous host:port",
    typeof launch?.backend === "string" ? null : "a backend",
    launch?.plan === undefined ? "a plan" : null,
    launch?.local === undefined || (Number.isInteger(launch.local) && launch.local >= 1)
      ? null
      : "local as a positive integer",
    ...optionalFields(launch ?? {}),
  ].filter((problem) => problem !== null);
  if (problems.length > 0) throw new Error(`the launch parameters need ${problems.join(", ")}`);
  return launch as ProcessLaunch;
}

/** What is wrong with the optional fields of a launch description. */
function optionalFields(launch: Partial<WorkerLaunch>): (string | null)[] {
  const text = ["host", "advertise", "secret", "secretFile", "runId"] as const;
  const numbers = ["peerTimeoutMs", "handshakeTimeoutMs", "rendezvousTimeoutMs"] as const;
  return [
    ...text.map((key) =>
      launch[key] === undefined || typeof launch[key] === "string" ? null : `${key} as text`
    ),
    ...numbers.map((key) =>
      launch[key] === undefined || isTimeout(launch[key]) ? null : `${key} as ${TIMEOUT_RANGE}`
    ),
    launch.tls === undefined || (typeof launch.tls === "object" && launch.tls !== null)
      ? null
      : "tls as an object of file paths",
    launch.webgpu === undefined || typeof launch.webgpu?.detail === "string"
      ? null
      : "webgpu as a probe's answer",
  ];
}

/**
 * Runs one process worker from a launch description.
 *
 * @param input The JSON text of a {@linkcode WorkerLaunch}.
 * @returns The exit code: 0 on success, 1 on failure (the message is printed to stderr).
 */
export async function runProcessWorker(input: string): Promise<number> {
  let launch: ProcessLaunch;
  try {
    launch = parseLaunch(input);
  } catch (error) {
    console.error(`Cannot start a process worker: ${messageOf(error)}`);
    return 1;
  }
  try {
    const { local = 1, ...worker } = launch;
    await (local === 1 ? runWorker(worker) : runWorkerGroup(worker, local));
    return 0;
  } catch (error) {
    console.error(messageOf(error));
    return 1;
  }
}

if (import.meta.main) {
  Deno.exitCode = await runProcessWorker(await new Response(Deno.stdin.readable).text());
}
