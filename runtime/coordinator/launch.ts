/**
 * Starts the workers of a TCP run: Web Workers in this process (`threads`), local processes
 * running the runtime's process-worker entry (`processes`), or nothing (`none`, workers join by
 * themselves with `gossamer worker`).
 * What the launcher observes (a crashed thread, a process's exit code) is passed to `fail`.
 *
 * Local workers get the run's secret and run id in their launch message (`postMessage` for a
 * thread, standard input for a process), never on a command line, where other users of the
 * host could read it. For `none`, a secret the coordinator generated is written to
 * `<run folder>/secret` (mode 0600) when the run folder is known, and the workers are told
 * where to find it; it is removed when the run ends, however it ends (short of SIGKILL), since
 * run folders are shared and copied. A secret from the environment is already where the workers
 * can find it.
 *
 * @module
 */

import { createSharedArena } from "../comm/shared_reduce.ts";
import { fileURLToPath as fromFileUrl } from "node:url";
import { join, resolve } from "node:path";
import type { Plan } from "../../dsl/plan.ts";
import { settlesWithin } from "../_timeout.ts";
import {
  SECRET_ENV,
  SECRET_FILE_ENV,
  SECRET_FILE_NAME,
  type TlsFiles,
  writeSecretFile,
} from "../auth.ts";
import type { RunOptions } from "../run_types.ts";
import type { WorkerLaunch } from "../worker/worker_main.ts";
import type { ProcessLaunch } from "../worker/process_worker.ts";
import { startThreadWorker, webgpuProbeFor } from "../worker/thread_group.ts";
import { processWorkerFlags, threadWorkerPermissions } from "../worker/permissions.ts";
import type { RendezvousSecurity } from "./rendezvous.ts";
import { messageOf } from "../errors.ts";

/** A launched worker that can be stopped. */
export interface LaunchedWorker {
  stop(): Promise<void>;
}

/**
 * The connection settings of a run beyond {@linkcode RunOptions}: what `RunOptions` and the
 * command line are to carry (see the report of issue 11).
 */
export interface ConnectionOptions {
  /** How long a connection may take to complete its handshake, ms (default 5 000). */
  readonly handshakeTimeoutMs?: number;
  /** TLS certificate files for the mesh and the control channel; default: plain TCP. */
  readonly tls?: TlsFiles;
  /** How long a worker keeps retrying to reach the coordinator, ms (default 60 000). */
  readonly rendezvousTimeoutMs?: number;
}

/** Where the line telling the user how workers find the secret goes. */
export type Announce = (line: string) => void;

/**
 * Starts the workers of a TCP run.
 *
 * @param plan The plan.
 * @param options Launch mode, backend, peer timeout, run folder and connection settings.
 * @param rendezvous The coordinator's `host:port`.
 * @param fail Called with what the launcher observes of a failing worker, and the ranks it ran
 *   (none for the launch itself).
 * @param security The rendezvous's security (`openRendezvous`): the secret and run id the
 *   workers are given.
 * @param announce Where the line on the secret goes for `none` (default: standard error).
 * @returns The workers, to stop at the end.
 */
export function launchWorkers(
  plan: Plan,
  options: RunOptions & ConnectionOptions & {
    /** The ranks to start (a resumed elastic run's members); default every one. */
    readonly ranks?: readonly number[];
  },
  rendezvous: string,
  fail: (message: string, ranks: readonly number[]) => void,
  security: RendezvousSecurity,
  announce: Announce = (line) => console.error(line),
): LaunchedWorker[] {
  const launch = options.launch ?? "threads";
  const backend = options.backend ?? "auto";
  const ranks = options.ranks ?? Array.from({ length: plan.workers }, (_, rank) => rank);
  const launchOf = (rank: number): WorkerLaunch => ({
    plan,
    rank,
    world: plan.workers,
    rendezvous,
    backend,
    secret: security.secret,
    runId: security.runId,
    ...(options.allowRemoteModules ? { allowRemoteModules: true } : {}),
    ...(options.peerTimeoutMs === undefined ? {} : { peerTimeoutMs: options.peerTimeoutMs }),
    ...(options.handshakeTimeoutMs === undefined
      ? {}
      : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
    ...(options.tls === undefined ? {} : { tls: options.tls }),
  });
  if (launch === "none") {
    const written = tellWhereTheSecretIs(security, options.out, announce).catch((error) => {
      fail(`Cannot write the run secret: ${messageOf(error)}`, []);
      return null;
    });
    // The run folder is shared and copied: the secret leaves it when the run ends, however.
    return [{ stop: async () => await removeSecretFile(await written) }];
  }
  if (launch === "threads") {
    // Thread workers share this process's memory: their all-reduces go through it. Not in an
    // elastic run, whose meshes after a loss cover the survivors only (over TCP).
    const arena = options.sharedMemory === false || plan.workers === 1 || plan.elastic !== null
      ? null
      : createSharedArena(plan.workers);
    return ranks.map((rank) => {
      const worker = startThreadWorker(
        launchOf(rank),
        arena ?? undefined,
        options.limitThreadPermissions ? threadWorkerPermissions(plan, rendezvous) : undefined,
      );
      worker.finished.catch((error: Error) => fail(error.message, [rank]));
      // A worker that finished closes itself; one that hangs is terminated after a grace.
      return { stop: () => worker.stop() };
    });
  }
  const url = new URL("../worker/process_worker.ts", import.meta.url);
  // A file path when gossamer is on disk; its URL when a script imported gossamer over http(s).
  const entry = url.protocol === "file:" ? fromFileUrl(url) : url.href;
  // Each process runs `local` consecutive workers (threads sharing memory) from its first rank.
  const local = options.localWorkers ?? 1;
  const firsts = ranks.filter((rank) => rank % local === 0);
  return firsts.map((rank) => {
    const launch: ProcessLaunch = local === 1 ? launchOf(rank) : { ...launchOf(rank), local };
    const who = local === 1 ? `Worker ${rank}` : `Workers ${rank}..${rank + local - 1}`;
    const child = new Deno.Command(Deno.execPath(), {
      // Only what a worker needs (permissions.ts): the plan's module runs in it.
      args: ["run", ...processWorkerFlags(plan, rendezvous), "--quiet", entry],
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    // This process probes WebGPU, and the worker adopts the answer: it may not start the child
    // process that probes safely (see backend.ts), and an adapter of its own could crash it.
    const fed = webgpuProbeFor(launch)
      .then((webgpu) =>
        writer.write(
          new TextEncoder().encode(
            JSON.stringify(webgpu === undefined ? launch : { ...launch, webgpu }),
          ),
        )
      )
      .then(() => writer.close())
      .catch(() => {/* the child exited early: its exit code says why */});
    const stderr = new Response(child.stderr).text();
    child.status.then(async (status) => {
      if (!status.success) {
        const detail = (await stderr).trim().split("\n").at(-1) ?? "";
        fail(
          `${who} (process ${child.pid}) exited with code ${status.code}${
            detail ? `: ${detail}` : ""
          }`,
          Array.from({ length: local }, (_, i) => rank + i),
        );
      }
    });
    return {
      // A worker that finished exits by itself; one that hangs is killed after a grace.
      async stop() {
        await settlesWithin(child.status, 2000);
        try {
          child.kill("SIGKILL");
        } catch { /* already exited */ }
        await child.status;
        await fed;
        await stderr.catch(() => "");
      },
    };
  });
}

/**
 * Removes the secret file {@linkcode tellWhereTheSecretIs} wrote, if any, once the run has ended:
 * every worker read it before the run started, and the run folder is shared and copied.
 *
 * @param path The file, or `null` when none was written.
 */
async function removeSecretFile(path: string | null): Promise<void> {
  if (path === null) return;
  await Deno.remove(path).catch((error) => {
    if (!(error instanceof Deno.errors.NotFound)) {
      console.error(`Cannot remove the run secret ${path}: ${messageOf(error)}; delete it`);
    }
  });
}

/**
 * For workers started by hand: a generated secret is written to `<out>/secret` (mode 0600) when
 * the run folder is known, and a line says how workers read it; without a folder the line holds
 * the secret itself. A secret from the environment or a file is left where it is. The file is
 * removed when the run ends (the stop of the launch `none`).
 *
 * @param security The rendezvous's security.
 * @param out The run folder, if known.
 * @param announce Where the line goes.
 * @returns The path written, or `null`.
 */
export async function tellWhereTheSecretIs(
  security: RendezvousSecurity,
  out: string | undefined,
  announce: Announce,
): Promise<string | null> {
  if (security.secretSource !== "generated") {
    announce(`Workers authenticate with the run secret from ${security.secretSource}`);
    return null;
  }
  if (out === undefined) {
    announce(
      `Workers need the run secret: start them with ${SECRET_ENV}=${security.secret} (or put it in a file named by ${SECRET_FILE_ENV})`,
    );
    return null;
  }
  const path = resolve(join(out, SECRET_FILE_NAME));
  await writeSecretFile(path, security.secret);
  announce(
    `Workers need the run secret: start them with ${SECRET_FILE_ENV}=${path} (or --secret-file ${path}); the file is removed when the run ends`,
  );
  return path;
}
