/**
 * A run with the TCP transport: the coordinator's side. It listens at the rendezvous address,
 * launches the workers, waits for every worker to register its mesh address, sends the address
 * table, then streams metrics until every worker hands back its final model. The first failure
 * aborts the run: every worker is told to stop, then stopped.
 *
 * @module
 */

import type { Plan } from "../dsl/plan.ts";
import {
  ControlWriter,
  type CoordinatorMessage,
  readControl,
  type WorkerMessage,
} from "./control.ts";
import { decideBackend } from "./backend.ts";
import { launchWorkers } from "./launch.ts";
import type { RunOptions, RuntimeFacts } from "./run.ts";
import type { MetricsLine } from "./worker_loop.ts";
import { parseAddress } from "./worker_main.ts";

/** How long peer failures are collected before the root cause is named. */
const PEER_FAILURE_GRACE_MS = 750;

/** Runs the plan with workers connected by TCP, coordinating them over control connections. */
export async function runOverTcp(
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

  const interrupt = () => fail(String((options.signal?.reason as Error)?.message ?? "Interrupted"));
  options.signal?.addEventListener("abort", interrupt);
  if (options.signal?.aborted) interrupt();
  // Workers launched here get a decided backend, probed once in this thread (a Web Worker that
  // opens a WebGPU adapter of its own can crash the process when it ends).
  let launchOptions = options;
  if ((options.launch ?? "threads") !== "none") {
    const decided = await decideBackend(options.backend ?? "auto");
    facts.backendReason = decided.reason;
    launchOptions = { ...options, backend: decided.request };
  }
  const launched = launchWorkers(plan, launchOptions, rendezvous, failLater);
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
    options.signal?.removeEventListener("abort", interrupt);
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
