/**
 * Starts the workers of a TCP run: Web Workers in this process (`threads`), local
 * `gossamer worker` processes (`processes`), or nothing (`none`, workers join by themselves).
 * What the launcher observes (a crashed thread, a process's exit code) is passed to `fail`.
 *
 * @module
 */

import { resolve } from "node:path";
import type { Plan } from "../dsl/plan.ts";
import { settlesWithin } from "./_timeout.ts";
import type { RunOptions } from "./run.ts";
import type { WorkerLaunch } from "./worker_main.ts";

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
  if (launch === "none") return [];
  if (launch === "threads") {
    return ranks.map((rank) => {
      const worker = new Worker(new URL("./thread_worker.ts", import.meta.url), { type: "module" });
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
      const message: WorkerLaunch = {
        plan,
        rank,
        world: plan.workers,
        rendezvous,
        backend,
        ...(options.peerTimeoutMs === undefined ? {} : { peerTimeoutMs: options.peerTimeoutMs }),
      };
      worker.postMessage(message);
      return {
        // A worker that finished closes itself; one that hangs is terminated after a grace.
        async stop() {
          await settlesWithin(exit, 2000);
          worker.terminate();
        },
      };
    });
  }
  const planFile = Deno.makeTempFileSync({ prefix: "gossamer_plan_", suffix: ".json" });
  Deno.writeTextFileSync(planFile, JSON.stringify(plan));
  const cli = resolve(new URL("../cli.ts", import.meta.url).pathname);
  return ranks.map((rank) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        cli,
        "worker",
        "--plan",
        planFile,
        "--rank",
        String(rank),
        "--world",
        String(plan.workers),
        "--rendezvous",
        rendezvous,
        "--backend",
        backend,
        ...(options.peerTimeoutMs === undefined
          ? []
          : ["--peer-timeout", String(options.peerTimeoutMs)]),
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
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
        await stderr.catch(() => "");
        await Deno.remove(planFile).catch(() => {});
      },
    };
  });
}
