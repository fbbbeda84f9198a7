/**
 * The coordinator: runs a plan and writes its run folder.
 *
 * With the TCP transport (the default) it listens at a rendezvous address, launches the
 * workers (Web Workers in this process, local processes, or none when workers on other hosts
 * join by themselves with `gossamer worker`), waits for every worker to register its mesh
 * address, sends the address table, then streams metrics to `metrics.jsonl` until every worker
 * hands back its final model. With the memory transport every rank runs in this thread.
 *
 * The first failure anywhere (a worker error, a worker that dies or disconnects, NaN loss, a
 * silent worker) aborts the run: every worker is told to stop and then terminated, the summary
 * records the cause, and {@linkcode RunError} names the worker and the cause.
 *
 * @module
 */

import { resolve } from "node:path";
import type { Plan } from "../dsl/plan.ts";
import type { BackendRequest } from "./backend.ts";
import { selectBackend } from "./backend.ts";
import { settlesWithin } from "./_timeout.ts";
import { createCommunicator } from "./comm/communicator.ts";
import { createMemoryTransports } from "./comm/memory_transport.ts";
import { type PhaseBytes, PHASES } from "./comm/types.ts";
import {
  ControlWriter,
  type CoordinatorMessage,
  readControl,
  type WorkerMessage,
} from "./control.ts";
import { loadWorkerData } from "./data/worker_data.ts";
import { createModel } from "./models/create_model.ts";
import { defaultRunFolder, RunFolder } from "./run_folder.ts";
import { type Progress, RunTotals } from "./run_progress.ts";
import { unsupportedNodes } from "./support.ts";
import { type MetricsLine, runWorkerLoop } from "./worker_loop.ts";
import { parseAddress, type WorkerLaunch } from "./worker_main.ts";

/** How long peer failures are collected before the root cause is named. */
const PEER_FAILURE_GRACE_MS = 750;

/** How to run a plan. */
export interface RunOptions {
  /** Run folder (default: a new folder under `runs/`). */
  readonly out?: string;
  /** `tcp` (default): workers connected by TCP; `memory`: every rank in this thread. */
  readonly transport?: "tcp" | "memory";
  /** TensorFlow.js backend request (default `auto`). */
  readonly backend?: BackendRequest;
  /** TCP only: `threads` (default) Web Workers, `processes` local subprocesses, `none` external. */
  readonly launch?: "threads" | "processes" | "none";
  /** TCP only: coordinator address (default `127.0.0.1:0`, any free port). */
  readonly rendezvous?: string;
  /** Called with the rendezvous address once the coordinator listens (for external workers). */
  readonly onListening?: (address: string) => void;
  /** Called after metrics arrive. */
  readonly onProgress?: (progress: Progress) => void;
  /** Fail when no worker has sent anything for this long (default 60 s). */
  readonly silenceTimeoutMs?: number;
  /** Workers fail when a peer is silent this long (default: the transport's). */
  readonly peerTimeoutMs?: number;
}

/** Bytes one worker sent and received, per phase. */
export interface WorkerBytes {
  readonly worker: number;
  readonly sent: PhaseBytes;
  readonly received: PhaseBytes;
}

/** `summary.json`. */
export interface RunSummary {
  readonly status: "completed" | "failed";
  readonly error: string | null;
  readonly steps: number;
  readonly workers: number;
  readonly algorithm: string;
  /** The last evaluation of the averaged model. */
  readonly final: { step: number; testLoss: number; testAccuracy: number | null } | null;
  readonly wallTimeMs: number;
  readonly bytes: readonly WorkerBytes[];
  readonly backend: string | null;
  readonly backendReason: string | null;
  readonly transport: "tcp" | "memory";
  readonly launch: string | null;
  readonly versions: { readonly deno: string; readonly tfjs: string | null };
}

/** What `run()` returns. */
export interface RunResult {
  readonly folder: string;
  readonly summary: RunSummary;
  /** Each worker's final model, and their average. */
  readonly params: { readonly workers: number[][]; readonly average: number[] };
}

/** The run failed; the run folder holds what was written before the failure. */
export class RunError extends Error {
  /**
   * @param message What failed, naming the worker where known.
   * @param folder The run folder.
   */
  constructor(message: string, readonly folder: string) {
    super(message);
    this.name = "RunError";
  }
}

/** The element-wise mean of the workers' models, in float64, as written to `params.json`. */
function averageOf(models: readonly Float32Array[]): number[] {
  const d = models[0]?.length ?? 0;
  const sum = new Float64Array(d);
  for (const model of models) for (let j = 0; j < d; j++) sum[j]! += model[j]!;
  return Array.from(sum, (value) => Math.fround(value / models.length));
}

/** A short name of the algorithm chain. */
function algorithmName(plan: Plan): string {
  return [plan.base.kind, plan.compress?.kind, plan.outer?.kind].filter(Boolean).join(" + ");
}

/** The backend and versions the workers reported. */
interface RuntimeFacts {
  backend: string | null;
  backendReason: string | null;
  tfjs: string | null;
}

/**
 * Runs a plan to completion and writes its run folder.
 *
 * @param plan A valid plan.
 * @param options Transport, launch mode, backend, output folder, progress callback.
 * @returns The folder, the summary and the final parameters.
 * @throws {RunError} When the plan holds unsupported nodes or the run fails.
 */
export async function run(plan: Plan, options: RunOptions = {}): Promise<RunResult> {
  const unsupported = unsupportedNodes(plan);
  const out = options.out ?? defaultRunFolder(plan);
  if (unsupported.length > 0) {
    throw new RunError(
      `Cannot run the plan: this runtime cannot execute ${unsupported.join("; ")}`,
      out,
    );
  }
  const folder = await RunFolder.create(out, plan).catch((error: Error) => {
    throw new RunError(error.message, out);
  });
  const totals = new RunTotals(plan.workers, plan.steps);
  const transport = options.transport ?? "tcp";
  const facts: RuntimeFacts = { backend: null, backendReason: null, tfjs: null };
  const start = performance.now();
  const sink = (lines: readonly MetricsLine[]) => {
    folder.writeMetrics(lines);
    for (const line of lines) totals.add(line);
    options.onProgress?.(totals.progress());
  };
  const summarize = (error: string | null): RunSummary => ({
    status: error === null ? "completed" : "failed",
    error,
    steps: plan.steps,
    workers: plan.workers,
    algorithm: algorithmName(plan),
    final: totals.evaluation,
    wallTimeMs: performance.now() - start,
    bytes: totals.sent.map((sent, worker) => ({
      worker,
      sent,
      received: totals.received[worker]!,
    })),
    backend: facts.backend,
    backendReason: facts.backendReason,
    transport,
    launch: transport === "tcp" ? options.launch ?? "threads" : null,
    versions: { deno: Deno.version.deno, tfjs: facts.tfjs },
  });
  try {
    const models = transport === "memory"
      ? await runInMemory(plan, options, sink, facts)
      : await runOverTcp(plan, options, sink, facts);
    const params = {
      workers: models.map((model) => Array.from(model)),
      average: averageOf(models),
    };
    await folder.writeJson("params.json", params);
    const summary = summarize(null);
    await folder.writeJson("summary.json", summary);
    return { folder: out, summary, params };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await folder.writeJson("summary.json", summarize(message)).catch(() => {});
    throw new RunError(message, out);
  } finally {
    folder.close();
  }
}

/** Runs every rank in this thread over memory transports. */
async function runInMemory(
  plan: Plan,
  options: RunOptions,
  sink: (lines: readonly MetricsLine[]) => void,
  facts: RuntimeFacts,
): Promise<Float32Array[]> {
  const backend = await selectBackend(options.backend ?? "auto");
  facts.backend = backend.backend;
  facts.backendReason = backend.reason;
  const tf = await import("@tensorflow/tfjs");
  facts.tfjs = tf.version_core;
  const transports = createMemoryTransports(plan.workers);
  const comms = transports.map((transport) => createCommunicator(transport));
  const ranks = comms.map((comm) => comm.rank);
  const setups = await Promise.all(ranks.map(async (rank) => ({
    data: await loadWorkerData(plan, rank),
    model: await createModel(plan),
  })));
  let failure: unknown = null;
  try {
    return await Promise.all(ranks.map(async (rank) => {
      try {
        return await runWorkerLoop({
          plan,
          comm: comms[rank]!,
          model: setups[rank]!.model,
          data: setups[rank]!.data,
          tensorCount: () => tf.memory().numTensors,
          emit: (line) => sink([line]),
        });
      } catch (error) {
        // The first failure closes every transport so no other rank waits for it.
        if (failure === null) {
          failure = error;
          await Promise.all(transports.map((transport) => transport.close()));
        }
        throw failure;
      }
    }));
  } finally {
    await Promise.all(transports.map((transport) => transport.close()));
    for (const setup of setups) setup.model.dispose();
  }
}

/** A launched worker that can be stopped. */
interface LaunchedWorker {
  stop(): Promise<void>;
}

/** Starts the workers of a TCP run. */
function launchWorkers(
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

/** Runs the plan with workers connected by TCP, coordinating them over control connections. */
async function runOverTcp(
  plan: Plan,
  options: RunOptions,
  sink: (lines: readonly MetricsLine[]) => void,
  facts: RuntimeFacts,
): Promise<Float32Array[]> {
  const n = plan.workers;
  let listener: Deno.Listener;
  const wanted = parseAddress(options.rendezvous ?? "127.0.0.1:0");
  try {
    listener = Deno.listen({ ...wanted, transport: "tcp" });
  } catch (error) {
    throw new Error(
      `Cannot listen at ${options.rendezvous ?? "127.0.0.1:0"}: ${
        error instanceof Deno.errors.AddrInUse
          ? "the port is already in use"
          : (error as Error).message
      }`,
    );
  }
  const address = listener.addr as Deno.NetAddr;
  const rendezvous = `${address.hostname}:${address.port}`;
  options.onListening?.(rendezvous);

  let failed: string | null = null;
  let settle!: (error: string | null) => void;
  const finished = new Promise<string | null>((resolve) => settle = resolve);
  const fail = (message: string) => {
    if (failed !== null) return;
    failed = message;
    settle(message);
  };

  // A silent or dead worker makes its peers time out, and their peers in turn: collect the
  // peer failures for a moment, then name the worker that others blame but that reported
  // nothing itself, which is the root cause rather than the first timeout to fire.
  const blames: { reporter: number; peer: number; message: string }[] = [];
  let blameTimer: ReturnType<typeof setTimeout> | undefined;
  const blame = (reporter: number, peer: number, message: string) => {
    blames.push({ reporter, peer, message });
    blameTimer ??= setTimeout(() => {
      const reporters = new Set(blames.map((entry) => entry.reporter));
      const root = blames.find((entry) => !reporters.has(entry.peer)) ?? blames[0]!;
      fail(root.message);
    }, PEER_FAILURE_GRACE_MS);
  };

  // What the launcher sees (a thread's failure, a process's exit code) usually follows the
  // worker's own report on its control connection, which names the cause better: wait a
  // moment before using it.
  const reported = new Set<number>();
  const lateTimers = new Set<ReturnType<typeof setTimeout>>();
  const failLater = (message: string) => {
    lateTimers.add(setTimeout(() => fail(message), 2 * PEER_FAILURE_GRACE_MS));
  };

  const writers = new Map<number, ControlWriter>();
  const addresses: string[] = new Array(n);
  const models: Float32Array[] = new Array(n);
  const conns = new Set<Deno.Conn>();
  let registered = 0;
  let done = 0;
  let lastHeard = performance.now();

  /** Handles one worker's control connection from hello to done. */
  const serve = async (conn: Deno.Conn) => {
    let rank = -1;
    let finishedCleanly = false;
    try {
      for await (const { header, body } of readControl<WorkerMessage>(conn)) {
        lastHeard = performance.now();
        if (header.type === "hello") {
          if (header.rank < 0 || header.rank >= n || writers.has(header.rank)) {
            fail(
              `A worker registered as rank ${header.rank}, which is ${
                header.rank < 0 || header.rank >= n ? `outside 0..${n - 1}` : "already taken"
              }`,
            );
            return;
          }
          rank = header.rank;
          writers.set(rank, new ControlWriter(conn));
          addresses[rank] = header.address;
          facts.backend ??= header.backend;
          facts.backendReason ??= header.backendReason;
          facts.tfjs ??= header.tfjsVersion;
          if (++registered === n) {
            const start: CoordinatorMessage = { type: "start", addresses };
            await Promise.all([...writers.values()].map((writer) => writer.send(start)));
          }
        } else if (header.type === "metrics") {
          sink(header.lines);
        } else if (header.type === "done") {
          models[header.rank] = new Float32Array(body.buffer, body.byteOffset, header.parameters);
          finishedCleanly = true;
          if (++done === n) settle(null);
        } else if (header.type === "error") {
          reported.add(header.rank);
          if (header.peer === undefined) fail(header.message);
          else blame(header.rank, header.peer, header.message);
        }
      }
      if (!finishedCleanly && !reported.has(rank)) {
        fail(
          rank === -1
            ? "A worker disconnected before registering"
            : `Worker ${rank} disconnected from the coordinator before finishing (it died or was killed)`,
        );
      }
    } catch (error) {
      fail(`Lost the control connection of worker ${rank}: ${(error as Error).message}`);
    }
  };

  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        serve(conn).finally(() => conns.delete(conn));
      }
    } catch { /* listener closed */ }
  })();

  const launched = launchWorkers(plan, options, rendezvous, failLater);
  const silenceLimit = options.silenceTimeoutMs ?? 60_000;
  const watchdog = setInterval(() => {
    const silent = performance.now() - lastHeard;
    if (silent > silenceLimit) {
      fail(
        registered < n
          ? `Only ${registered} of ${n} workers registered within ${silenceLimit} ms at ${rendezvous}`
          : `No worker reported anything for ${silenceLimit} ms`,
      );
    }
  }, 250);

  try {
    const error = await finished;
    if (error !== null) throw new Error(error);
    return models;
  } finally {
    clearInterval(watchdog);
    clearTimeout(blameTimer);
    for (const timer of lateTimers) clearTimeout(timer);
    if (failed !== null) {
      const abort: CoordinatorMessage = { type: "abort", reason: failed };
      await Promise.all([...writers.values()].map((writer) => writer.send(abort).catch(() => {})));
    }
    listener.close();
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await accepting;
    await Promise.all(launched.map((worker) => worker.stop()));
  }
}

/** Bytes a worker sent in all phases. */
export function totalBytes(bytes: PhaseBytes): number {
  return PHASES.reduce((sum, phase) => sum + bytes[phase], 0);
}
