/**
 * A run with the TCP transport, the coordinator's side: open the rendezvous, launch the
 * workers, let the rendezvous register them and stream their metrics, and wait until every
 * worker handed back its final model or the first failure (`failures.ts`), with a watchdog for
 * silence. On failure every worker is told to stop, then stopped.
 *
 * @module
 */

import { elasticServer } from "../../dsl/elastic.ts";
import type { Plan } from "../../dsl/plan.ts";
import { decideBackend } from "../backend.ts";
import type { MetricsLine } from "../metrics.ts";
import type { FinalModels, RunOptions, RuntimeFacts } from "../run_types.ts";
import { RunFailures } from "./failures.ts";
import { launchWorkers } from "./launch.ts";
import { openRendezvous, Rendezvous } from "./rendezvous.ts";
import { planHashBytes, readTlsFiles } from "../auth.ts";
import { startWatchdog } from "./watchdog.ts";
import type { CheckpointHooks } from "./checkpoints.ts";
import { rejoinProblem } from "../worker/membership.ts";

/** Default silence after which the run fails. */
const DEFAULT_SILENCE_MS = 60_000;

/**
 * Runs the plan with workers connected by TCP, coordinating them over control connections.
 *
 * @param plan A valid plan.
 * @param options Launch mode, rendezvous address, timeouts, abort signal.
 * @param sink Receives every metrics line.
 * @param facts Filled in with the backend and versions the workers report.
 * @returns Each worker's final model, by rank.
 * @throws {Error} The first failure, naming the worker where known.
 */
export async function runOverTcp(
  plan: Plan,
  options: RunOptions,
  sink: (lines: readonly MetricsLine[]) => void,
  facts: RuntimeFacts,
  checkpoints: CheckpointHooks,
): Promise<FinalModels> {
  const n = plan.workers;
  // A run resumed from an elastic checkpoint starts with its members: the others stay lost.
  const members = checkpoints.resume?.members ?? Array.from({ length: n }, (_, rank) => rank);
  const tls = await readTlsFiles(options.tls);
  const { listener, address, security } = await openRendezvous(
    options.rendezvous ?? "127.0.0.1:0",
    await planHashBytes(plan),
    {
      ...(tls === null ? {} : { tls }),
      ...(options.secret === undefined ? {} : { secret: options.secret }),
      ...(options.secretFile === undefined ? {} : { secretFile: options.secretFile }),
      ...(options.handshakeTimeoutMs === undefined
        ? {}
        : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
      // Workers started here get the secret from the coordinator: a fresh one every run.
      fromEnvironment: (options.launch ?? "threads") === "none",
    },
  );
  options.onListening?.(address);
  const failures = new RunFailures();
  const rendezvous = new Rendezvous(listener, n, {
    metrics: sink,
    failures,
    facts,
    checkpoints,
    security: { ...security, macMesh: options.macMesh === true },
    ...(plan.elastic === null ? {} : {
      elastic: {
        minWorkers: plan.elastic.minWorkers,
        steps: plan.steps,
        rejoinRefusal: rejoinProblem(plan),
        server: elasticServer(plan),
      },
    }),
  });

  const interrupt = () =>
    failures.fail(String((options.signal?.reason as Error)?.message ?? "Interrupted"));
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
  const launched = launchWorkers(plan, { ...launchOptions, ranks: members }, address, (
    message,
    ranks,
  ) => {
    // A worker an elastic run lost may exit as it likes: the run went on without it.
    failures.failLater(message, () => ranks.every((rank) => !rendezvous.isLive(rank)));
  }, security);
  const stopWatchdog = startWatchdog({
    limitMs: options.silenceTimeoutMs ?? DEFAULT_SILENCE_MS,
    lastHeard: () => rendezvous.lastHeard,
    // Name the timeout that fired and how to change it.
    describe: (limitMs) => {
      const starting = members.length;
      const stalled = rendezvous.registered < starting ? null : rendezvous.stalled();
      return (rendezvous.registered < starting
        ? `Only ${rendezvous.registered} of ${starting} workers registered within ${limitMs} ms at ${address}`
        : `No worker reported anything for ${limitMs} ms`) +
        " (the coordinator's silence timeout; raise it with --silence-timeout)" +
        (stalled === null ? "" : `. ${stalled}`);
    },
    fail: (message) => failures.fail(message),
  });

  try {
    const error = await failures.finished;
    if (error !== null) throw new Error(error);
    return { models: rendezvous.models, tensors: rendezvous.finalLayout(), lost: rendezvous.lost };
  } finally {
    stopWatchdog();
    failures.dispose();
    options.signal?.removeEventListener("abort", interrupt);
    if (failures.failed !== null) await rendezvous.abort(failures.failed);
    await rendezvous.close();
    await Promise.all(launched.map((worker) => worker.stop()));
  }
}
