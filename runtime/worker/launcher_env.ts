/**
 * Where a worker stands in its run (rank, world size, local rank, the rendezvous address), read
 * from what started it: flags, gossamer's own variables, Slurm, a Kubernetes Indexed Job, or
 * torchrun. A pure function of an environment record, so every launcher can be tested without
 * it.
 *
 * Each of rank, world size and rendezvous is taken from the first source that has it:
 * 1. the command line (`--rank`, `--world`, `--rendezvous`);
 * 2. gossamer's variables `GOSSAMER_RANK`, `GOSSAMER_WORLD`, `GOSSAMER_RENDEZVOUS`;
 * 3. the launcher, the first of these whose rank variable is set:
 *    - Slurm: `SLURM_PROCID`, `SLURM_NTASKS`, `SLURM_LOCALID`, and the first host of
 *      `SLURM_STEP_NODELIST` (else `SLURM_JOB_NODELIST`), where task 0 runs;
 *    - a Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` only (the generated Job sets
 *      `GOSSAMER_WORLD` and `GOSSAMER_RENDEZVOUS=<job>-0.<service>:29500` beside it);
 *    - torchrun: `RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `MASTER_ADDR`, `MASTER_PORT`.
 *
 * A rendezvous host without a port gets `GOSSAMER_PORT`, else `MASTER_PORT`, else
 * {@linkcode DEFAULT_PORT}. Only the launcher found by its rank variable is read, so a stray
 * variable of another launcher cannot slip a world size in. Every message names the variable
 * (or flag) at fault.
 *
 * @module
 */

import { firstHost, HostlistError } from "./hostlist.ts";

/** The rendezvous port when nothing names one, as torchrun's. */
export const DEFAULT_PORT = 29500;

/** What started a worker: the source of its rank. */
export type Launcher = "command line" | "gossamer" | "slurm" | "kubernetes" | "torchrun";

/** A worker's place in its run and where each part of it came from. */
export interface Place {
  /** This worker's rank, `0..world−1`. */
  readonly rank: number;
  /** Number of workers. */
  readonly world: number;
  /** Rank among the workers of this host, when the launcher says (Slurm, torchrun). */
  readonly localRank: number | null;
  /** The coordinator's `host:port`, an IPv6 host in brackets. */
  readonly rendezvous: string;
  /** Where the rank came from. */
  readonly launcher: Launcher;
  /** The flag or variable each part came from, for the line that says so. */
  readonly sources: {
    readonly rank: string;
    readonly world: string;
    readonly rendezvous: string;
    readonly localRank: string | null;
  };
}

/** What the command line gave. */
export interface PlaceFlags {
  /** `--rank`. */
  readonly rank?: number;
  /** `--world`. */
  readonly world?: number;
  /** `--rendezvous`: `host:port`, `[ipv6]:port`, or a host alone (the default port). */
  readonly rendezvous?: string;
}

/** An environment record: variable names to values (an empty value counts as unset). */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The place cannot be settled; the message names the variables or flags at fault. */
export class LauncherEnvError extends Error {
  /**
   * Builds the error.
   *
   * @param message What is missing or contradictory, naming it.
   */
  constructor(message: string) {
    super(message);
    this.name = "LauncherEnvError";
  }
}

/** A value and the flag or variable it came from. */
interface Sourced<T> {
  readonly value: T;
  readonly source: string;
}

/** What one launcher's own variables say. */
interface LauncherReading {
  readonly name: Exclude<Launcher, "command line" | "gossamer">;
  readonly rank: Sourced<number>;
  readonly world: Sourced<number> | null;
  readonly localRank: Sourced<number> | null;
  readonly rendezvous: Sourced<string> | null;
  /** What to set when the world or rendezvous is missing under this launcher. */
  readonly missingHint: string;
}

const LAUNCHER_WORDS: Record<Launcher, string> = {
  "command line": "the command line",
  gossamer: "gossamer's environment",
  slurm: "Slurm",
  kubernetes: "a Kubernetes Indexed Job",
  torchrun: "torchrun",
};

/**
 * Settles a worker's place from its flags and environment.
 *
 * @param env The environment (`Deno.env.toObject()`).
 * @param flags `--rank`, `--world`, `--rendezvous`, where given.
 * @param planWorkers The plan's workers, which the world size must equal (divided by
 *   `localWorkers`).
 * @param localWorkers Workers per process (`--local-workers`): the world size then counts
 *   processes.
 * @returns The place and where each part came from.
 * @throws {LauncherEnvError} When a part is missing or malformed, the rank is not below the
 * world size, or the world size differs from the plan's workers.
 * @example Slurm's task 2 of 4, on the second node of three
 * ```ts
 * import assert from "node:assert/strict";
 * import { placeFromEnvironment } from "./launcher_env.ts";
 *
 * const place = placeFromEnvironment({
 *   SLURM_PROCID: "2",
 *   SLURM_NTASKS: "4",
 *   SLURM_LOCALID: "0",
 *   SLURM_STEP_NODELIST: "node[07-09]",
 * });
 * assert.deepEqual(
 *   [place.launcher, place.rank, place.world, place.localRank, place.rendezvous],
 *   ["slurm", 2, 4, 0, "node07:29500"],
 * );
 * ```
 */
export function placeFromEnvironment(
  env: Environment,
  flags: PlaceFlags = {},
  planWorkers?: number,
  localWorkers = 1,
): Place {
  const read = (name: string) => {
    const value = env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  };
  const launcher = readLauncher(read);
  const rank = first(
    flags.rank === undefined ? null : { value: flags.rank, source: "--rank" },
    integerVariable(read, "GOSSAMER_RANK", 0),
    launcher?.rank ?? null,
  );
  if (rank === null) {
    throw new LauncherEnvError(
      "No rank for this worker: pass --rank, set GOSSAMER_RANK, or start it under a launcher that sets one (srun sets SLURM_PROCID, a Kubernetes Indexed Job JOB_COMPLETION_INDEX, torchrun RANK)",
    );
  }
  const name: Launcher = rank.source === "--rank"
    ? "command line"
    : rank.source === "GOSSAMER_RANK"
    ? "gossamer"
    : launcher!.name;
  const missing = (what: string, flag: string, variable: string) =>
    new LauncherEnvError(
      `Worker ${rank.value} has its rank from ${rank.source} but no ${what}: pass ${flag} or set ${variable}${
        launcher !== null && name === launcher.name ? ` (${launcher.missingHint})` : ""
      }`,
    );
  const world = first(
    flags.world === undefined ? null : { value: flags.world, source: "--world" },
    integerVariable(read, "GOSSAMER_WORLD", 1),
    launcher?.world ?? null,
  );
  if (world === null) throw missing("world size", "--world", "GOSSAMER_WORLD");
  const rendezvous = first(
    flags.rendezvous === undefined ? null : {
      value: rendezvousAddress(flags.rendezvous, "--rendezvous", read),
      source: "--rendezvous",
    },
    rendezvousVariable(read, "GOSSAMER_RENDEZVOUS"),
    launcher?.rendezvous ?? null,
  );
  if (rendezvous === null) {
    throw missing("rendezvous address", "--rendezvous", "GOSSAMER_RENDEZVOUS");
  }
  if (rank.value >= world.value) {
    throw new LauncherEnvError(
      `The rank ${rank.value} (${rank.source}) is not below the world size ${world.value} (${world.source})`,
    );
  }
  // A local rank from another launcher than the rank's would describe another process.
  const localRank = launcher !== null && name === launcher.name ? launcher.localRank : null;
  if (localRank !== null && localRank.value > rank.value) {
    throw new LauncherEnvError(
      `The local rank ${localRank.value} (${localRank.source}) exceeds the rank ${rank.value} (${rank.source}): the variables come from different runs`,
    );
  }
  const processes = planWorkers === undefined ? undefined : planWorkers / localWorkers;
  if (processes !== undefined && world.value !== processes) {
    const expected = localWorkers === 1
      ? `the plan's ${planWorkers} workers`
      : `the ${processes} processes that run the plan's ${planWorkers} workers, ${localWorkers} each (--local-workers ${localWorkers})`;
    throw new LauncherEnvError(
      `The world size ${world.value} (${world.source}) differs from ${expected}: ${
        worldHint(world.source, processes)
      }, or change the plan`,
    );
  }
  return {
    rank: rank.value,
    world: world.value,
    localRank: localRank?.value ?? null,
    rendezvous: rendezvous.value,
    launcher: name,
    sources: {
      rank: rank.source,
      world: world.source,
      rendezvous: rendezvous.source,
      localRank: localRank?.source ?? null,
    },
  };
}

/**
 * The one line a worker prints about where its place came from.
 *
 * @param place The place.
 * @returns The line.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describePlace, placeFromEnvironment } from "./launcher_env.ts";
 *
 * const place = placeFromEnvironment({ RANK: "1", WORLD_SIZE: "2", LOCAL_RANK: "1", MASTER_ADDR: "::1", MASTER_PORT: "6000" });
 * assert.equal(
 *   describePlace(place),
 *   "Launcher: torchrun; rank 1 of 2, local rank 1 (RANK, WORLD_SIZE, LOCAL_RANK); rendezvous [::1]:6000 (MASTER_ADDR, MASTER_PORT)",
 * );
 * ```
 */
export function describePlace(place: Place): string {
  const { sources } = place;
  const names = [
    sources.rank,
    sources.world,
    ...(sources.localRank === null ? [] : [sources.localRank]),
  ];
  return `Launcher: ${place.launcher}; rank ${place.rank} of ${place.world}${
    place.localRank === null ? "" : `, local rank ${place.localRank}`
  } (${names.join(", ")}); rendezvous ${place.rendezvous} (${sources.rendezvous})`;
}

/**
 * The words for a launcher, for messages ("Slurm", "a Kubernetes Indexed Job", …).
 *
 * @param launcher The launcher.
 * @returns Its name in words.
 */
export function launcherWords(launcher: Launcher): string {
  return LAUNCHER_WORDS[launcher];
}

/** The first value given. */
function first<T>(...candidates: (Sourced<T> | null)[]): Sourced<T> | null {
  return candidates.find((candidate) => candidate !== null) ?? null;
}

type Read = (name: string) => string | undefined;

/** The launcher whose rank variable is set, first of Slurm, Kubernetes, torchrun. */
function readLauncher(read: Read): LauncherReading | null {
  const slurmRank = integerVariable(read, "SLURM_PROCID", 0);
  if (slurmRank !== null) {
    return {
      name: "slurm",
      rank: slurmRank,
      world: integerVariable(read, "SLURM_NTASKS", 1) ?? integerVariable(read, "SLURM_NPROCS", 1),
      localRank: integerVariable(read, "SLURM_LOCALID", 0),
      rendezvous: slurmRendezvous(read),
      missingHint: "srun sets SLURM_NTASKS and SLURM_STEP_NODELIST for each task",
    };
  }
  const index = integerVariable(read, "JOB_COMPLETION_INDEX", 0);
  if (index !== null) {
    return {
      name: "kubernetes",
      rank: index,
      world: null,
      localRank: null,
      rendezvous: null,
      missingHint:
        "an Indexed Job sets only JOB_COMPLETION_INDEX; the Job from `gossamer k8s` sets GOSSAMER_WORLD and GOSSAMER_RENDEZVOUS",
    };
  }
  const rank = integerVariable(read, "RANK", 0);
  if (rank !== null) {
    const address = read("MASTER_ADDR");
    return {
      name: "torchrun",
      rank,
      world: integerVariable(read, "WORLD_SIZE", 1),
      localRank: integerVariable(read, "LOCAL_RANK", 0),
      rendezvous: address === undefined
        ? null
        : withPort(hostOf(address, "MASTER_ADDR"), "MASTER_ADDR", read),
      missingHint: "torchrun sets WORLD_SIZE, MASTER_ADDR and MASTER_PORT",
    };
  }
  return null;
}

/** The first host of the step's (else the job's) node list, with the default port. */
function slurmRendezvous(read: Read): Sourced<string> | null {
  for (const variable of ["SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST"]) {
    const list = read(variable);
    if (list === undefined) continue;
    let host: string;
    try {
      host = firstHost(list);
    } catch (error) {
      if (!(error instanceof HostlistError)) throw error;
      throw new LauncherEnvError(`${variable}: ${error.message}`);
    }
    return withPort(host, `first host of ${variable}`, read);
  }
  return null;
}

/** A whole-number variable at least `min`, or `null` when unset. */
function integerVariable(read: Read, name: string, min: number): Sourced<number> | null {
  const text = read(name);
  if (text === undefined) return null;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
    throw new LauncherEnvError(
      `${name} is "${text}", but it must be a whole number of at least ${min}, written in digits`,
    );
  }
  return { value, source: name };
}

/** A rendezvous variable, or `null` when unset. */
function rendezvousVariable(read: Read, name: string): Sourced<string> | null {
  const text = read(name);
  return text === undefined ? null : { value: rendezvousAddress(text, name, read), source: name };
}

/** The default port: `GOSSAMER_PORT`, else `MASTER_PORT`, else {@linkcode DEFAULT_PORT}. */
function defaultPort(read: Read): Sourced<number> {
  for (const name of ["GOSSAMER_PORT", "MASTER_PORT"]) {
    const text = read(name);
    if (text !== undefined) return { value: portNumber(text, name), source: name };
  }
  return { value: DEFAULT_PORT, source: "the default port" };
}

/** A port, 1 to 65535, in digits. */
function portNumber(text: string, where: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) {
    throw new LauncherEnvError(`${where} has the port "${text}", but a port is 1 to 65535`);
  }
  return port;
}

/** A host from `source` with the default port, bracketed if IPv6, naming both sources. */
function withPort(host: string, source: string, read: Read): Sourced<string> {
  const port = defaultPort(read);
  return { value: formatHostPort(host, port.value), source: `${source}, ${port.source}` };
}

/** `host:port`, bracketing an IPv6 host. */
function formatHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A bare host (brackets around IPv6 removed), refusing empty text and stray brackets. */
function hostOf(text: string, where: string): string {
  const host = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (host === "" || /[\[\]\s\/]/.test(host)) {
    throw new LauncherEnvError(`${where} is "${text}", which is not a host name or address`);
  }
  return host;
}

/**
 * Reads a rendezvous address: `host:port`, `[ipv6]:port`, or a host alone (with the default
 * port). An IPv6 address with a port needs its brackets: `::1:29500` is ambiguous.
 */
function rendezvousAddress(text: string, where: string, read: Read): string {
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (bracketed !== null) {
    const host = hostOf(`[${bracketed[1]}]`, where);
    return formatHostPort(
      host,
      bracketed[2] === undefined ? defaultPort(read).value : portNumber(bracketed[2], where),
    );
  }
  const colons = text.split(":").length - 1;
  if (colons > 1) {
    throw new LauncherEnvError(
      `${where} is "${text}": write an IPv6 address in brackets, as [::1]:${DEFAULT_PORT}`,
    );
  }
  if (colons === 0) return formatHostPort(hostOf(text, where), defaultPort(read).value);
  const [host, port] = text.split(":") as [string, string];
  return formatHostPort(hostOf(host, where), portNumber(port, where));
}

/** How to make the world size match the plan, in the launcher's terms. */
function worldHint(source: string, workers: number): string {
  if (source.startsWith("SLURM_")) return `start ${workers} tasks (srun -n ${workers})`;
  if (source === "WORLD_SIZE") {
    return `start ${workers} processes in all (torchrun --nnodes × --nproc-per-node)`;
  }
  if (source === "--world") return `pass --world ${workers}`;
  return `set ${source}=${workers}`;
}
