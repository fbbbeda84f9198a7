/**
 * Helpers for runs made of separate processes: a coordinator started with `--launch none`
 * and workers started by the test with `gossamer worker`, so a test can kill or stop one.
 *
 * @module
 */

import { ROOT } from "../_cli.ts";

/** A started child process with its collected output. */
export interface Started {
  readonly child: Deno.ChildProcess;
  readonly output: Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Starts `deno run -A cli.ts …args` in the repository root. */
export function start(...args: string[]): Started {
  return startWith({}, ...args);
}

/** Starts `deno run -A cli.ts …args` with extra environment variables. */
export function startWith(env: Record<string, string>, ...args: string[]): Started {
  return spawnCollected(Deno.execPath(), ["run", "-A", "--quiet", "cli.ts", ...args], env);
}

/**
 * Starts `command …args` in the repository root, without colours, collecting its output.
 *
 * @param command The program.
 * @param args Its arguments.
 * @param env Extra environment variables.
 * @returns The process and its collected output.
 */
export function spawnCollected(
  command: string,
  args: readonly string[],
  env: Record<string, string>,
): Started {
  const child = new Deno.Command(command, {
    args: [...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  const output = (async () => {
    const [status, stdout, stderr] = await Promise.all([
      child.status,
      new Response(child.stdout).arrayBuffer(),
      new Response(child.stderr).arrayBuffer(),
    ]);
    return {
      code: status.code,
      stdout: decoder.decode(stdout),
      stderr: decoder.decode(stderr),
    };
  })();
  return { child, output };
}

/** A free TCP port on 127.0.0.1 (closed again, so a coordinator can take it). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Waits until `metrics.jsonl` in `folder` holds at least `lines` lines (bounded wait). */
export async function waitForMetrics(folder: string, lines: number, timeoutMs = 60_000) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      const text = await Deno.readTextFile(`${folder}/metrics.jsonl`);
      if (text.split("\n").length > lines) return;
    } catch { /* not created yet */ }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${folder}/metrics.jsonl did not reach ${lines} lines in ${timeoutMs} ms`);
}

/** Kills a child if it still runs and waits for it. */
export async function reap(started: Started): Promise<void> {
  try {
    started.child.kill("SIGKILL");
  } catch { /* already exited */ }
  await started.output;
}

/** A run secret for tests, shared through the environment as a user would. */
export const TEST_SECRET = "7e57".repeat(8);

/**
 * Starts a coordinator that waits for external workers (`--launch none`), then four
 * `gossamer worker` processes that join it; all share {@linkcode TEST_SECRET} through
 * `GOSSAMER_SECRET`.
 *
 * @param plan The plan file or pipeline module.
 * @param out The run folder.
 * @param workerArgs Extra arguments for every worker.
 * @param workerPlans The plan of each worker, when it differs from the coordinator's.
 * @returns The coordinator and the workers, in rank order.
 */
export function externalRun(
  plan: string,
  out: string,
  workerArgs: string[] = [],
  workerPlans: readonly string[] = [plan, plan, plan, plan],
  world = 4,
  coordinatorArgs: readonly string[] = [],
) {
  const rendezvous = `127.0.0.1:${freePort()}`;
  const env = { GOSSAMER_SECRET: TEST_SECRET };
  const coordinator = startWith(
    env,
    "run",
    plan,
    "--out",
    out,
    "--launch",
    "none",
    "--rendezvous",
    rendezvous,
    "--quiet",
    ...coordinatorArgs,
  );
  // Workers retry until the coordinator listens: they may start first.
  const workers = Array.from({ length: world }, (_, rank) => rank).map((rank) =>
    startWith(
      env,
      "worker",
      "--plan",
      workerPlans[rank]!,
      "--rank",
      String(rank),
      "--world",
      String(world),
      "--rendezvous",
      rendezvous,
      ...workerArgs,
    )
  );
  return { coordinator, workers, rendezvous };
}
