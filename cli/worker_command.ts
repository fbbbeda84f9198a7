/**
 * `gossamer worker`: one worker process of a run. Its place (rank, world size, rendezvous)
 * comes from flags or from whatever started it (`runtime/worker/launcher_env.ts`: gossamer's
 * variables, Slurm, a Kubernetes Indexed Job, torchrun), and it prints one line naming that.
 *
 * Under a launcher, rank 0 also hosts the coordinator, so that one command started on every
 * rank is a whole run, as `srun -n 4 gossamer worker --plan plan.json --out runs/x` is: rank 0
 * listens at the rendezvous port on every interface (or `--host`), coordinates as
 * `gossamer run --launch none` does, writes the run folder and prints the run's table, and
 * trains as rank 0 beside it; the other ranks join it. Every rank, rank 0 included, reads the
 * run's secret from `GOSSAMER_SECRET` or `GOSSAMER_SECRET_FILE` (or `--secret-file`): a
 * launcher cannot hand out a secret rank 0 makes up, so none is generated.
 *
 * With `--local-workers K` the process runs K consecutive workers as threads that share memory,
 * as NCCL runs one process per node over its GPUs: the place's rank and world then count
 * processes, process `p` runs workers `pK … pK+K−1`, and the all-reduces are hierarchical
 * (`runtime/comm/communicator.ts`).
 *
 * @module
 */

import type { Plan } from "../dsl/plan.ts";
import type { BackendRequest } from "../runtime/backend.ts";
import { findSecret, SECRET_ENV, SECRET_FILE_ENV } from "../runtime/auth.ts";
import { formatAddress, parseAddress } from "../runtime/comm/tcp_address.ts";
import { run } from "../runtime/coordinator/run.ts";
import { loadPlan } from "../runtime/load_plan.ts";
import { RunError } from "../runtime/run_types.ts";
import {
  describePlace,
  LauncherEnvError,
  launcherWords,
  type Place,
  placeFromEnvironment,
} from "../runtime/worker/launcher_env.ts";
import { runWorker, type WorkerLaunch } from "../runtime/worker/worker_main.ts";
import { localWorkersProblem, runWorkerGroup } from "../runtime/worker/thread_group.ts";
import { CliInputError, CommandFailedError } from "./errors.ts";
import { withInterrupt } from "./interrupt.ts";
import { remoteModules, reportRun, tlsOption } from "./run_command.ts";
import { messageOf } from "../runtime/errors.ts";

/** Options of `gossamer worker`. */
export interface WorkerCommandOptions {
  readonly plan: string;
  /** Accept an `http:`/`https:` custom model module (`--allow-remote-modules`). */
  readonly allowRemoteModules?: boolean;
  readonly rank?: number;
  readonly world?: number;
  readonly rendezvous?: string;
  /**
   * Join an elastic run in progress whose coordinator is at this `host:port` (`--join`): the
   * rendezvous, and never hosting the coordinator.
   */
  readonly join?: string;
  readonly backend: BackendRequest;
  readonly host?: string;
  readonly advertise?: string;
  /** Workers this process runs as threads (default 1: the process is one worker). */
  readonly localWorkers?: number;
  /** The run folder, written by the rank that hosts the coordinator. */
  readonly out?: string;
  /** Host the coordinator (`true`), never (`false`), or when rank 0 comes from a launcher. */
  readonly coordinator?: boolean;
  readonly peerTimeout?: number;
  readonly secretFile?: string;
  readonly rendezvousTimeout?: number;
  readonly handshakeTimeout?: number;
  /** Rank 0 hosting the coordinator: authenticate every mesh frame with a MAC. */
  readonly macMesh?: boolean;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsCa?: string;
}

/**
 * Runs `gossamer worker`: one process worker of a run, and on rank 0 under a launcher, the
 * run's coordinator too.
 *
 * @param options The plan, the flags of the place, addresses, secret and timeouts.
 * @param env The environment the place is read from (default: this process's).
 */
export async function workerCommand(
  given: WorkerCommandOptions,
  env: Readonly<Record<string, string>> = Deno.env.toObject(),
): Promise<void> {
  if (given.join !== undefined && given.rendezvous !== undefined) {
    throw new CliInputError("--join names the coordinator already: leave out --rendezvous");
  }
  const options: WorkerCommandOptions = given.join === undefined
    ? given
    : { ...given, rendezvous: given.join, coordinator: false };
  const plan = await loadPlan(options.plan, remoteModules(options));
  if (options.join !== undefined && plan.elastic === null) {
    throw new CliInputError(
      "--join joins an elastic run in progress, and this plan is not elastic (add .elastic({ minWorkers }))",
    );
  }
  const local = options.localWorkers ?? 1;
  const problem = localWorkersProblem(plan.workers, local);
  if (problem !== null) throw new CliInputError(problem);
  let place: Place;
  try {
    place = placeFromEnvironment(
      env,
      {
        ...(options.rank === undefined ? {} : { rank: options.rank }),
        ...(options.world === undefined ? {} : { world: options.world }),
        ...(options.rendezvous === undefined ? {} : { rendezvous: options.rendezvous }),
      },
      plan.workers,
      local,
    );
  } catch (error) {
    if (error instanceof LauncherEnvError) throw new CliInputError(error.message);
    throw error;
  }
  console.error(describePlace(place));
  const first = place.rank * local;
  const workers = `${first}..${first + local - 1}`;
  if (local > 1) {
    console.error(
      `This process runs workers ${workers} of ${plan.workers} as threads that share memory (--local-workers ${local})`,
    );
  }
  const hosts = options.coordinator ?? (place.rank === 0 && place.launcher !== "command line");
  if (hosts && place.rank !== 0) {
    throw new CliInputError(
      `Only rank 0 can host the coordinator, and this worker is rank ${place.rank} (${place.sources.rank})`,
    );
  }
  const who = local === 1 ? `Worker ${place.rank}` : `Process ${place.rank} (workers ${workers})`;
  if (hosts || place.launcher !== "command line") {
    await requireSecret(place, who, options.secretFile);
  }
  const launch = workerLaunch(plan, place, options, first);
  const train = () => local === 1 ? runWorker(launch) : runWorkerGroup(launch, local);
  if (hosts) return await hostRun(plan, place, options, train);
  try {
    await train();
  } catch (error) {
    throw new CommandFailedError(messageOf(error));
  }
  // Metrics went to the coordinator; say so, or a finished worker looks like a silent one.
  console.log(
    `${
      local === 1 ? `Worker ${first}` : `Workers ${workers}`
    } of ${plan.workers} finished ${plan.steps} steps; the metrics went to the coordinator at ${place.rendezvous}`,
  );
}

/** The launch description of the process's (first) worker, rank `rank`. */
function workerLaunch(
  plan: Plan,
  place: Place,
  options: WorkerCommandOptions,
  rank: number,
): WorkerLaunch {
  return {
    plan,
    rank,
    world: plan.workers,
    rendezvous: place.rendezvous,
    backend: options.backend,
    ...remoteModules(options),
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.advertise === undefined ? {} : { advertise: options.advertise }),
    ...(options.peerTimeout === undefined ? {} : { peerTimeoutMs: options.peerTimeout }),
    ...(options.secretFile === undefined ? {} : { secretFile: options.secretFile }),
    ...(options.rendezvousTimeout === undefined
      ? {}
      : { rendezvousTimeoutMs: options.rendezvousTimeout }),
    ...(options.handshakeTimeout === undefined
      ? {}
      : { handshakeTimeoutMs: options.handshakeTimeout }),
    ...tlsOption(options),
  };
}

/** How to give every rank of a launcher the same secret, in its terms. */
const SECRET_HINTS: Record<Place["launcher"], string> = {
  "command line": `export ${SECRET_ENV}=$(openssl rand -hex 32) in the environment of every worker`,
  gossamer: `export ${SECRET_ENV}=$(openssl rand -hex 32) in the environment of every worker`,
  slurm:
    `export ${SECRET_ENV}=$(openssl rand -hex 32) before srun (srun passes the environment to every task)`,
  kubernetes:
    `give every pod ${SECRET_ENV} from a Kubernetes Secret (env: valueFrom: secretKeyRef), as the Job from \`gossamer k8s\` does`,
  torchrun: `export ${SECRET_ENV}=$(openssl rand -hex 32) before torchrun on every node`,
};

/**
 * Refuses to start without a secret: under a launcher no rank can hand one to the others, so
 * every rank must find the same one where it starts.
 */
async function requireSecret(
  place: Place,
  who: string,
  secretFile: string | undefined,
): Promise<void> {
  let found;
  try {
    found = await findSecret(secretFile === undefined ? {} : { secretFile });
  } catch (error) {
    throw new CliInputError(`${who}: ${messageOf(error)}`);
  }
  if (found !== null) return;
  throw new CliInputError(
    `${who} (started by ${
      launcherWords(place.launcher)
    }) has no run secret. Every rank, rank 0 and its coordinator included, needs the same one: ${
      SECRET_HINTS[place.launcher]
    }, or set ${SECRET_FILE_ENV} (or --secret-file) to a file every rank can read`,
  );
}

/**
 * Rank 0 under a launcher: the coordinator listens at the rendezvous port, and once it does,
 * this process trains as rank 0 too. The run's result decides the exit code, as with
 * `gossamer run`; a failure of rank 0 before it could report to the coordinator stops the run
 * with rank 0's message.
 */
async function hostRun(
  plan: Plan,
  place: Place,
  options: WorkerCommandOptions,
  train: () => Promise<void>,
): Promise<void> {
  const { hostname: rendezvousHost, port } = parseAddress(place.rendezvous);
  // Every interface of the rendezvous host's family, unless --host names one.
  const bind = options.host ?? (rendezvousHost.includes(":") ? "::" : "0.0.0.0");
  const listenAt = formatAddress(bind.replace(/^\[(.*)\]$/, "$1"), port);
  const result = await withInterrupt(async (interrupt) => {
    const rankZeroFailed = new AbortController();
    let rankZero: Promise<void> | null = null;
    const running = run(plan, {
      signal: interrupt,
      failSignal: rankZeroFailed.signal,
      ...(options.out === undefined ? {} : { out: options.out }),
      rendezvous: listenAt,
      transport: "tcp",
      launch: "none",
      ...remoteModules(options),
      ...(options.secretFile === undefined ? {} : { secretFile: options.secretFile }),
      ...(options.handshakeTimeout === undefined
        ? {}
        : { handshakeTimeoutMs: options.handshakeTimeout }),
      ...(options.macMesh ? { macMesh: true } : {}),
      ...tlsOption(options),
      onListening: (address) => {
        console.error(
          `Rank 0 hosts the coordinator at ${address} and waits for ${plan.workers} workers (rendezvous ${place.rendezvous})`,
        );
        // Rank 0's worker starts once its coordinator listens, and a failure of its own before
        // it can report to the coordinator stops the run with its message.
        rankZero = train().catch((error: Error) => rankZeroFailed.abort(error));
      },
    });
    try {
      return await running;
    } catch (error) {
      if (!(error instanceof RunError)) throw error;
      // Stopped because rank 0's own worker failed: a failed run (1), not an interruption.
      throw new RunError(
        rendezvousPortInUse(error) ? `${error.message} ${BUSY_PORT_HINT}` : error.message,
        error.folder,
        interrupt.aborted && error.interrupted,
        error.resumable === null ? {} : { resumable: error.resumable },
      );
    } finally {
      // The coordinator ended, so rank 0's worker finished or was told to stop.
      await rankZero;
    }
  });
  console.log(reportRun(result));
}

/** What to do about a rendezvous port that is taken, after the message saying so. */
const BUSY_PORT_HINT =
  "(choose another port with GOSSAMER_PORT, which every rank must see; under torchrun its agent may hold MASTER_PORT)";

/** Whether a run failed because its rendezvous could not listen: the port was in use. */
function rendezvousPortInUse(error: Error): boolean {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof Deno.errors.AddrInUse) return true;
  }
  return false;
}
