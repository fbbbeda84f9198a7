/**
 * Thread workers: workers that run as Web Workers of this process ({@linkcode startThreadWorker}),
 * each running {@linkcode runWorker} with its launch handed over by `postMessage` (the run's
 * secret and a shared arena can only travel that way, and never appear on a command line).
 *
 * {@linkcode runWorkerGroup} is one host's part of a multi-host run (`gossamer worker
 * --local-workers K`): K consecutive ranks as threads that share one arena, so their all-reduces
 * are hierarchical (reduce in shared memory, ring between hosts, result back through shared
 * memory; see `runtime/comm/communicator.ts`).
 *
 * @module
 */

import { createSharedArena, type SharedArena } from "../comm/shared_reduce.ts";
import { settlesWithin } from "../_timeout.ts";
import { probeWebGpu, type WebGpuProbe } from "../backend.ts";
import { messageOf } from "../errors.ts";
import type { WorkerLaunch } from "./worker_main.ts";

/**
 * Why `workers` cannot run as processes of `local` workers each, or `null` when they can.
 *
 * @param workers The plan's workers.
 * @param local Workers per process.
 * @returns The problem, naming `--local-workers`.
 */
export function localWorkersProblem(workers: number, local: number): string | null {
  return Number.isInteger(local) && local >= 1 && workers % local === 0
    ? null
    : `--local-workers ${local} does not divide the plan's ${workers} workers: every process runs the same number of workers`;
}

/** A thread worker that was started. */
export interface ThreadWorker {
  /** Resolves when the worker finished its run; rejects with its failure. */
  readonly finished: Promise<void>;
  /** Waits a moment for the worker to end by itself, then terminates it. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * The WebGPU probe a worker launched from this thread adopts instead of requesting an adapter
 * itself (see `adoptWebGpuProbe` in `backend.ts`): the one its launch carries, this thread's for
 * the `auto` and `webgpu` backends, none for the others.
 *
 * @param launch The worker's launch.
 * @returns The probe, or `undefined` when the worker needs none.
 */
export function webgpuProbeFor(launch: WorkerLaunch): Promise<WebGpuProbe | undefined> {
  if (launch.webgpu !== undefined) return Promise.resolve(launch.webgpu);
  const needsProbe = launch.backend === "auto" || launch.backend === "webgpu";
  return needsProbe ? probeWebGpu() : Promise.resolve(undefined);
}

/**
 * Starts one thread worker.
 *
 * @param launch What the worker runs.
 * @param arena The shared memory of its group, if any.
 * @param permissions The worker's Deno permissions (default: this thread's). Deno accepts them
 *   only with `--unstable-worker-options` (gossamer's deno.json enables it) and exits otherwise.
 * @returns The worker.
 */
export function startThreadWorker(
  launch: WorkerLaunch,
  arena?: SharedArena,
  permissions?: Deno.PermissionOptionsObject,
): ThreadWorker {
  const worker = new Worker(
    new URL("./thread_worker.ts", import.meta.url),
    permissions === undefined ? { type: "module" } : { type: "module", deno: { permissions } },
  );
  const { promise: ended, resolve: settle } = Promise.withResolvers<Error | null>();
  worker.onerror = (event) => {
    event.preventDefault();
    settle(new Error(`Worker ${launch.rank} crashed: ${event.message}`));
  };
  worker.onmessage = (event: MessageEvent<{ type: string; message?: string }>) => {
    settle(
      event.data.type === "failed"
        ? new Error(event.data.message ?? `Worker ${launch.rank} failed`)
        : null,
    );
  };
  webgpuProbeFor(launch).then((webgpu) =>
    worker.postMessage({
      ...launch,
      ...(arena === undefined ? {} : { sharedArena: arena }),
      ...(webgpu === undefined ? {} : { webgpu }),
    })
  ).catch((error) =>
    settle(new Error(`Worker ${launch.rank} could not start: ${messageOf(error)}`))
  );
  return {
    finished: ended.then((error) => {
      if (error !== null) throw error;
    }),
    async stop(graceMs = 2000) {
      await settlesWithin(ended, graceMs);
      worker.terminate();
    },
  };
}

/**
 * Runs `count` consecutive ranks of a run as thread workers of this process, sharing one arena.
 *
 * @param launch The launch of the group's first rank; the others differ only in their rank.
 * @param count How many ranks, from `launch.rank` on.
 * @returns Resolves when every worker finished; rejects with the first failure (the others are
 * stopped by then: their peers' failures end them, or they are terminated).
 */
export async function runWorkerGroup(launch: WorkerLaunch, count: number): Promise<void> {
  const arena = createSharedArena(count, undefined, launch.rank);
  const workers = Array.from(
    { length: count },
    (_, i) => startThreadWorker({ ...launch, rank: launch.rank + i }, arena),
  );
  try {
    await Promise.all(workers.map((worker) => worker.finished));
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
  }
}
