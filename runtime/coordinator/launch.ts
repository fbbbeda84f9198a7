/**
 * Starts the workers of a TCP run: Web Workers in this process (`threads`), local processes
 * running the runtime's process-worker entry (`processes`), or nothing (`none`, workers join by
 * themselves with `gossamer worker`).
 * What the launcher observes (a crashed thread, a process's exit code) is passed to `fail`.
 *
 * @module
 */

import { fileURLToPath as fromFileUrl } from "node:url";
import type { Plan } from "../../dsl/plan.ts";
import { settlesWithin } from "../_timeout.ts";
import type { RunOptions } from "../run_types.ts";
import type { WorkerLaunch } from "../worker/worker_main.ts";

/** A launched worker that can be stopped. */
export interface LaunchedWorker {
  stop(): Promise<void>;
}

/** Starts the workers of a TCP run. */
export function launchWorkers(
  plan: Plan,
  options: RunOptions,
  rendezvous: string,
  fail: (message: string) => void,
): LaunchedWorker[] {
  const launch = options.launch ?? "threads";
  const backend = options.backend ?? "auto";
  const ranks = Array.from({ length: plan.workers }, (_, rank) => rank);
  const launchOf = (rank: number): WorkerLaunch => ({
    plan,
    rank,
    world: plan.workers,
    rendezvous,
    backend,
    ...(options.peerTimeoutMs === undefined ? {} : { peerTimeoutMs: options.peerTimeoutMs }),
  });
  if (launch === "none") return [];
  if (launch === "threads") {
    return ranks.map((rank) => {
      const worker = new Worker(new URL("../worker/thread_worker.ts", import.meta.url), {
        type: "module",
      });
      worker.onerror = (event) => {
        event.preventDefault();
        fail(`Worker ${rank} crashed: ${event.message}`);
      };
      let exited!: () => void;
      const exit = new Promise<void>((resolve) => exited = resolve);
      worker.onmessage = (event: MessageEvent<{ type: string; message?: string }>) => {
        if (event.data.type === "failed") fail(event.data.message ?? `Worker ${rank} failed`);
        exited();
      };
      worker.postMessage(launchOf(rank));
      return {
        // A worker that finished closes itself; one that hangs is terminated after a grace.
        async stop() {
          await settlesWithin(exit, 2000);
          worker.terminate();
        },
      };
    });
  }
  const entry = new URL("../worker/process_worker.ts", import.meta.url);
  return ranks.map((rank) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", fromFileUrl(entry)],
      stdin: "piped",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    const fed = writer.write(new TextEncoder().encode(JSON.stringify(launchOf(rank))))
      .then(() => writer.close())
      .catch(() => {/* the child exited early: its exit code says why */});
    const stderr = new Response(child.stderr).text();
    child.status.then(async (status) => {
      if (!status.success) {
        const detail = (await stderr).trim().split("\n").at(-1) ?? "";
        fail(
          `Worker ${rank} (process ${child.pid}) exited with code ${status.code}${
            detail ? `: ${detail}` : ""
          }`,
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
