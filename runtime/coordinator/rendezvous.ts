/**
 * The coordinator's rendezvous: the listener every worker's control connection reaches, and the
 * protocol on those connections (`../control.ts`). Every connection opens with the
 * authenticated handshake (`../comm/handshake.ts`): the worker proves it holds the run's secret
 * and names its rank, and its plan's hash must match the coordinator's. Then workers register
 * (`hello`, with their mesh address); once all have, every worker gets the address table
 * (`start`); then metrics stream in, and each worker ends with its final model (`done`) or the
 * cause of its failure (`error`). A worker that has awaited a collective for a while says so
 * (`waiting`), which is not progress but tells the silence watchdog's message whom the others
 * wait for ({@linkcode Rendezvous.stalled}).
 *
 * Strangers never touch the run: a connection that does not prove the secret within the
 * handshake timeout is closed with a warning naming its address and why, and the run goes on.
 * A member that proves the secret but is wrong (another plan, a rank out of range or taken, a
 * second hello, a final model for another rank or twice) fails the run with a message naming
 * it: that is a misconfiguration to fix, not an intruder to ignore. Accepting and
 * authenticating is `../comm/accept_members.ts`, shared with the workers' mesh.
 *
 * @module
 */

import { formatAddress, parseAddress } from "../comm/tcp_address.ts";
import { MemberAcceptor } from "../comm/accept_members.ts";
import {
  COORDINATOR,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  FrameAuthError,
  RunKey,
  type SessionKeys,
  VERDICT,
} from "../comm/handshake.ts";
import { closeQuietly, listenOn, type TlsPem } from "../comm/net.ts";
import { rateLimited, type Warn, warnToStderr } from "../comm/warnings.ts";
import { MAX_FRAME_PAYLOAD } from "../comm/wire.ts";
import {
  ControlWriter,
  type CoordinatorMessage,
  readControl,
  type WorkerMessage,
} from "../control.ts";
import { findSecret, generateRunId, generateSecret, runIdBytes, secretBytes } from "../auth.ts";
import { messageOf } from "../errors.ts";
import type { MetricsLine } from "../metrics.ts";
import type { RuntimeFacts } from "../run_types.ts";
import type { TensorLayout } from "../models/types.ts";
import { type Blame, PEER_FAILURE_GRACE_MS, rootCauses, type RunFailures } from "./failures.ts";
import { decodeState, encodeState } from "../worker_state.ts";
import type { CheckpointHooks } from "./checkpoints.ts";
import { ownAddresses, unreachableLoopback } from "./reachable_addresses.ts";
import { stalledSentence, type WorkerProgress } from "./stalled.ts";
import { ElasticMembership, type LostWorker } from "./elastic_membership.ts";

/** How a rendezvous authenticates its workers. */
export interface RendezvousSecurity {
  /** The run's secret (text, see `../auth.ts`). */
  readonly secret: string;
  /** Where the secret came from: `"generated"`, or where it was found. */
  readonly secretSource: string;
  /** The run id, 32 hex digits. */
  readonly runId: string;
  /** The plan's SHA-256 (a promise while it is being computed). */
  readonly planHash: Uint8Array | Promise<Uint8Array>;
  /** How long a connection may take to complete its handshake, ms (default 5 000). */
  readonly handshakeTimeoutMs?: number;
  /** Largest control message accepted from an authenticated worker (default 1 GiB). */
  readonly maxMessageBytes?: number;
  /** Where warnings about refused connections go (default: standard error, rate-limited). */
  readonly warn?: Warn;
  /** Whether the workers authenticate every mesh frame (sent in the start message). */
  readonly macMesh?: boolean;
}

/** Options of {@linkcode openRendezvous}. */
export interface RendezvousListenOptions {
  /** Listen with TLS: the coordinator's certificate chain and key (PEM). */
  readonly tls?: TlsPem;
  /** The run's secret; default: from the environment (`../auth.ts`), else a fresh one. */
  readonly secret?: string;
  /** A file holding the run's secret. */
  readonly secretFile?: string;
  /** How long a connection may take to complete its handshake, ms (default 5 000). */
  readonly handshakeTimeoutMs?: number;
  /**
   * Whether a secret in the environment (`GOSSAMER_SECRET`, `GOSSAMER_SECRET_FILE`) is used
   * when none is given (default true). Local launches pass false: their workers get the secret
   * from the coordinator, which then makes a fresh one for every run.
   */
  readonly fromEnvironment?: boolean;
}

/** Binds the rendezvous address, naming it in the error. */
function bind(address: string, tls: TlsPem | null): { listener: Deno.Listener; address: string } {
  const wanted = parseAddress(address);
  let listener: Deno.Listener;
  try {
    listener = listenOn(wanted.hostname, wanted.port, tls);
  } catch (error) {
    throw new Error(
      `Cannot listen at ${address}: ${
        error instanceof Deno.errors.AddrInUse ? "the port is already in use" : messageOf(error)
      }`,
      { cause: error },
    );
  }
  const local = listener.addr as Deno.NetAddr;
  return { listener, address: formatAddress(local.hostname, local.port) };
}

/** A fresh secret, for a run that found none. */
function generated(): { secret: string; source: string } {
  return { secret: generateSecret(), source: "generated" };
}

/**
 * Opens the rendezvous with its security settled: the listener, the address, and the
 * {@linkcode RendezvousSecurity} to pass to the {@linkcode Rendezvous} and to `launchWorkers`.
 *
 * @param address `host:port` to listen at.
 * @param planHash The plan's SHA-256 (`../auth.ts` `planHashBytes`).
 * @param options TLS, the secret (else the environment, else a fresh one), the handshake
 *   timeout.
 * @returns The listener, its address and its security.
 * @throws {Error} When the address cannot be bound or a given secret is unusable.
 */
export async function openRendezvous(
  address: string,
  planHash: Uint8Array,
  options: RendezvousListenOptions = {},
): Promise<{ listener: Deno.Listener; address: string; security: RendezvousSecurity }> {
  const found = await findSecret({
    ...(options.secret === undefined ? {} : { secret: options.secret }),
    ...(options.secretFile === undefined ? {} : { secretFile: options.secretFile }),
    ...(options.fromEnvironment === false ? { env: null } : {}),
  }) ?? generated();
  const opening = bind(address, options.tls ?? null);
  const security: RendezvousSecurity = {
    secret: found.secret,
    secretSource: found.source,
    runId: generateRunId(),
    planHash,
    ...(options.handshakeTimeoutMs === undefined
      ? {}
      : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
  };
  return { ...opening, security };
}

/** What the rendezvous reports to the run. */
export interface RendezvousEvents {
  /** Metrics lines arrived from a worker. */
  readonly metrics: (lines: readonly MetricsLine[]) => void;
  /** Where failures go. */
  readonly failures: RunFailures;
  /** Filled in from the first worker's `hello`. */
  readonly facts: RuntimeFacts;
  /** Checkpoint period, the state to resume from, and where checkpoint states go. */
  readonly checkpoints: CheckpointHooks;
  /** How workers are authenticated: the security {@linkcode openRendezvous} set up. */
  readonly security: RendezvousSecurity;
  /**
   * Elastic runs: a lost worker shrinks the run instead of failing it, down to `minWorkers`
   * (`elastic_membership.ts`).
   */
  readonly elastic?: {
    readonly minWorkers: number;
    readonly steps: number;
    /** Why a lost worker may not join again, or `null` when it may. */
    readonly rejoinRefusal: string | null;
    /** The worker whose loss ends the run even so (CADA's server, a star's hub), or `null`. */
    readonly server: { readonly rank: number; readonly role: string } | null;
  };
}

/** A worker broke the control protocol after authenticating. */
class ProtocolError extends Error {}

/** The coordinator's side of every worker's control connection. */
export class Rendezvous {
  /** Each worker's final model, by rank, as `done` messages arrive. */
  readonly models: Float32Array[];
  /** The model's named tensors, from worker 0's `done` message. */
  tensors: readonly TensorLayout[] | null = null;
  /** Each finished worker's tensor layout as it sent it, unchecked, by rank. */
  readonly #layouts = new Map<number, unknown>();
  /** Workers registered so far. */
  registered = 0;
  /** The workers the run starts with: every one, or a resumed elastic run's members. */
  readonly #startingMembers: readonly number[];
  /** When anything was last heard from an authenticated worker (`performance.now()` time). */
  lastHeard = performance.now();
  readonly #n: number;
  readonly #listener: Deno.Listener;
  readonly #events: RendezvousEvents;
  readonly #security: RendezvousSecurity;
  /** Authenticated connections, by rank. */
  readonly #writers = new Map<number, ControlWriter>();
  readonly #addresses: string[];
  /** Where each worker's control connection came from (its host), by rank. */
  readonly #remotes: (string | null)[];
  readonly #conns = new Set<Deno.Conn>();
  readonly #acceptor: MemberAcceptor;
  /** What each registered worker last reported, by rank, for naming a stalled one. */
  readonly #progress: (WorkerProgress | null)[];
  /** The workers that handed back their final model. */
  readonly #finished = new Set<number>();
  /** Elastic runs, once started: who is live and the epochs of losing workers. */
  #membership: ElasticMembership | null = null;
  /** Elastic runs: lost peers reported in the current grace period, and its timer. */
  readonly #blames: Blame[] = [];
  #blameTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /**
   * Starts accepting control connections.
   *
   * @param listener The rendezvous listener (closed by {@linkcode Rendezvous.close}).
   * @param n The number of workers.
   * @param events Where metrics, failures and worker facts go, and the security.
   */
  constructor(listener: Deno.Listener, n: number, events: RendezvousEvents) {
    this.#n = n;
    this.#startingMembers = events.checkpoints.resume?.members ??
      Array.from({ length: n }, (_, rank) => rank);
    this.#listener = listener;
    const local = listener.addr as Deno.NetAddr;
    const address = formatAddress(local.hostname, local.port);
    this.#events = events;
    const security = this.#security = events.security;
    const key = RunKey.fromSecret(secretBytes(security.secret, security.secretSource));
    key.catch(() => {});
    this.models = new Array(n);
    this.#addresses = new Array(n);
    this.#remotes = new Array(n).fill(null);
    this.#progress = new Array(n).fill(null);
    this.#acceptor = new MemberAcceptor(listener, {
      handshake: {
        channel: "control",
        rank: COORDINATOR,
        world: n,
        runId: runIdBytes(security.runId),
        planHash: security.planHash,
        key,
        timeoutMs: security.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      },
      admit: (offer, admitting) => {
        if (offer.rank >= n) {
          return {
            status: VERDICT.rank,
            reason: `Worker ${offer.rank} joined, but the run's ranks are 0..${n - 1}`,
          };
        }
        if (this.#writers.has(offer.rank) || admitting.has(offer.rank)) {
          return {
            status: VERDICT.rank,
            reason: `Two workers joined as rank ${offer.rank}: give each worker its own rank`,
          };
        }
        return null;
      },
      closing: () => this.#closed,
      member: (conn, { offer, leftover, session }) => {
        this.#conns.add(conn);
        this.#serve(conn, offer.rank, leftover, session).finally(() => this.#conns.delete(conn));
      },
      refused: (error) => this.#events.failures.fail(error.message),
      warn: security.warn ?? rateLimited(warnToStderr),
      listenerName: `the rendezvous at ${address}`,
      strangerRefused: (remote) =>
        `the coordinator refused a connection from ${remote} to its rendezvous at ${address}`,
    });
  }

  /**
   * Names the workers that stalled, for the message of a run that fell silent: those that do
   * not wait in a collective, furthest behind first (`stalled.ts`).
   *
   * @returns A sentence, or `null` when no registered worker is still running.
   */
  stalled(): string | null {
    const known = this.#progress.filter((progress, rank): progress is WorkerProgress =>
      progress !== null && this.isLive(rank)
    );
    return stalledSentence(known, performance.now());
  }

  /**
   * The model's named tensors once the run finished: worker 0's, or, when an elastic run lost
   * worker 0, the lowest-ranked finished worker's (checked then).
   *
   * @returns The layout.
   * @throws {Error} When no worker reported one, or the one used does not fit its model.
   */
  finalLayout(): readonly TensorLayout[] {
    if (this.tensors !== null) return this.tensors;
    const rank = Math.min(...this.#layouts.keys());
    if (!Number.isFinite(rank)) throw new Error("No worker reported its tensor layout");
    return layoutOf(rank, this.#layouts.get(rank), this.models[rank]!.length);
  }

  /** The workers an elastic run lost so far, in order (none for other runs). */
  get lost(): readonly LostWorker[] {
    return this.#membership?.lost ?? [];
  }

  /**
   * Whether worker `rank` still belongs to the run: always, unless an elastic run lost it.
   *
   * @param rank The worker.
   * @returns `false` once an elastic run went on without it.
   */
  isLive(rank: number): boolean {
    return this.#membership?.isLive(rank) ?? true;
  }

  /**
   * Worker `rank` is gone: an elastic run that started goes on without it; any other run fails
   * with `reason`.
   */
  #lose(rank: number, reason: string): void {
    if (this.#membership === null) {
      this.#events.failures.fail(reason);
      return;
    }
    // A worker that finished passed the final barrier with every other: nobody goes back.
    if (this.#finished.size > 0) {
      this.#membership.loseAtEnd(rank, reason, this.#events.elastic!.steps);
    } else this.#membership.lose(rank, reason);
    this.#checkFinished();
  }

  /**
   * A survivor of an elastic run cannot reach `peer`. Reports are gathered for a grace period,
   * then the peers blamed by others but silent themselves are lost: a worker whose link is cut
   * makes its neighbours fail, and their closing threads make their own neighbours report them
   * in turn, so the reporters are symptoms and the silent one is the cause. A dead peer's own
   * connection usually closes within the grace, which settles it sooner. Reports from an ended
   * epoch, or while survivors pause (whose closing threads look like lost peers), are stale.
   */
  #reportedLost(reporter: number, peer: number, epoch: number, message: string): void {
    const membership = this.#membership!;
    if (epoch !== membership.epoch || membership.reforming) return;
    this.#blames.push({ reporter, peer, message });
    if (this.#blameTimer !== undefined) return;
    this.#blameTimer = setTimeout(() => {
      this.#blameTimer = undefined;
      const blames = this.#blames.splice(0);
      if (epoch !== membership.epoch || membership.reforming) return;
      const lost = new Set<number>();
      for (const { reporter, peer, message } of rootCauses(blames)) {
        if (lost.has(peer)) continue;
        lost.add(peer);
        this.#lose(peer, `worker ${reporter} cannot reach worker ${peer} (${message})`);
      }
    }, PEER_FAILURE_GRACE_MS);
  }

  /**
   * A lost worker registered again: it joins, unless the plan does not let workers rejoin, in
   * which case it is told why and the run goes on without it.
   */
  #joinOrRefuse(rank: number, address: string): void {
    const refusal = this.#events.elastic?.rejoinRefusal ?? null;
    if (refusal === null) {
      this.#membership!.join(rank, address);
      return;
    }
    const writer = this.#writers.get(rank);
    this.#writers.delete(rank);
    writer?.send({ type: "abort", reason: `worker ${rank} cannot join again: ${refusal}` })
      .catch(() => {});
  }

  /** Succeeds once every live worker handed back its final model. */
  #checkFinished(): void {
    const live = this.#membership?.live ?? Array.from({ length: this.#n }, (_, rank) => rank);
    if (live.every((rank) => this.#finished.has(rank))) this.#events.failures.succeed();
  }

  /** The membership of an elastic run, created when it starts. */
  #startMembership(minWorkers: number): ElasticMembership {
    const send = (rank: number, message: CoordinatorMessage) =>
      this.#writers.get(rank)?.send(message).catch(() => {/* its connection says why */});
    const resume = this.#events.checkpoints.resume;
    const resumed = resume?.members === undefined
      ? undefined
      : { members: resume.members, lost: resume.lost ?? [] };
    return new ElasticMembership(this.#n, minWorkers, {
      pause: (rank, epoch, reason) => send(rank, { type: "pause", epoch, reason }),
      members: (rank, message) => send(rank, { type: "members", ...message }),
      dismiss: (rank, reason) => {
        this.#progress[rank] = null;
        send(rank, { type: "abort", reason });
        // Its rank is free for a restarted worker to join again.
        this.#writers.delete(rank);
      },
      admit: (rank, terms) => {
        const { addresses, ...join } = terms;
        this.#progress[rank] = {
          rank,
          host: this.#remotes[rank] ?? null,
          step: null,
          heardAt: performance.now(),
          waiting: false,
          done: false,
        };
        send(rank, {
          type: "start",
          addresses,
          // A joiner saves its checkpoints as the others do: every later one waits for it.
          checkpointEvery: this.#events.checkpoints.every,
          resume: null,
          macMesh: this.#security.macMesh === true,
          join,
        });
      },
      record: (line) => this.#events.metrics([line]),
      rewound: (rewindTo, members, lost) =>
        this.#events.checkpoints.rewound?.(rewindTo, members, lost),
      fail: (message) => this.#events.failures.fail(message),
      essential: (rank) => {
        const server = this.#events.elastic?.server ?? null;
        return server !== null && server.rank === rank ? server.role : null;
      },
    }, resumed);
  }

  /** Updates what the coordinator knows of worker `rank`'s progress. */
  #heard(rank: number, change: Partial<WorkerProgress>): void {
    const before = this.#progress[rank];
    if (before === null || before === undefined) return;
    this.#progress[rank] = { ...before, ...change };
  }

  /**
   * Tells every connected worker to stop.
   *
   * @param reason Why, shown by the workers.
   * @returns Resolves once every message is written or has failed.
   */
  async abort(reason: string): Promise<void> {
    const abort: CoordinatorMessage = { type: "abort", reason };
    await Promise.all(
      [...this.#writers.values()].map((writer) => writer.send(abort).catch(() => {})),
    );
  }

  /** Closes the listener and every control connection. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#blameTimer);
    try {
      this.#listener.close();
    } catch { /* closed */ }
    for (const conn of this.#conns) closeQuietly(conn);
    await this.#acceptor.stop();
  }

  /**
   * Sends every worker the address table, the checkpoint period and, when the run resumes, its
   * own state from the checkpoint.
   */
  async #start(): Promise<void> {
    const { every, resume } = this.#events.checkpoints;
    const members = resume?.members;
    await Promise.all([...this.#writers.entries()].map(([rank, writer]) => {
      const state = resume === null ? null : encodeState(resume.workers[rank]!);
      const start: CoordinatorMessage = {
        type: "start",
        // Every rank's entry ("" for a worker lost before the checkpoint resumed from).
        addresses: Array.from({ length: this.#n }, (_, rank) => this.#addresses[rank] ?? ""),
        ...(members === undefined ? {} : { members }),
        checkpointEvery: every,
        resume: state === null ? null : { step: resume!.step, state: state.header },
        macMesh: this.#security.macMesh === true,
      };
      return writer.send(start, state?.body);
    }));
  }

  /** Handles one authenticated worker's control connection from hello to done. */
  async #serve(
    conn: Deno.Conn,
    rank: number,
    leftover: Uint8Array,
    session: SessionKeys,
  ): Promise<void> {
    const { failures, facts } = this.#events;
    const writer = new ControlWriter(conn, COORDINATOR, session.send);
    this.#writers.set(rank, writer);
    // Only this connection's own worker can be lost through it (not one that joined since).
    const current = () => !this.#writers.has(rank) || this.#writers.get(rank) === writer;
    this.lastHeard = performance.now();
    let hello = false;
    let finished = false;
    /** Whether this connection's worker said why it fails (its closing is then no news). */
    let reported = false;
    try {
      const messages = readControl<WorkerMessage>(conn, {
        leftover,
        maxPayload: this.#security.maxMessageBytes ?? MAX_FRAME_PAYLOAD,
        authenticate: { key: session.receive, peer: `worker ${rank}` },
      });
      for await (const { header, body } of messages) {
        const now = performance.now();
        // A worker that says it waits has made no progress: that is not news of the run.
        if (header.type !== "waiting") {
          this.lastHeard = now;
          this.#heard(rank, { heardAt: now });
        }
        switch (header.type) {
          case "hello":
            if (hello) throw new ProtocolError(`Worker ${rank} registered twice`);
            if (header.rank !== rank) {
              throw new ProtocolError(
                `Worker ${rank} registered as rank ${String(header.rank)}`,
              );
            }
            checkAddress(rank, header.address);
            if (this.#membership === null && !this.#startingMembers.includes(rank)) {
              // A resumed run goes on without the workers lost before its checkpoint; one of
              // them may join again once the run is under way.
              const writer = this.#writers.get(rank);
              this.#writers.delete(rank);
              await writer?.send({
                type: "abort",
                reason:
                  `worker ${rank} was lost before the checkpoint this run resumes from: start it again with --join once the others train`,
              }).catch(() => {});
              closeQuietly(conn);
              return;
            }
            hello = true;
            this.#addresses[rank] = header.address;
            facts.backend ??= String(header.backend);
            facts.backendReason ??= String(header.backendReason);
            facts.tfjs ??= String(header.tfjsVersion);
            if (Number.isSafeInteger(header.sharedGroup)) {
              facts.sharedGroup ??= header.sharedGroup as number;
            }
            this.#remotes[rank] = remoteHostOf(conn);
            if (this.#membership !== null && !this.#membership.isLive(rank)) {
              // A worker the run lost came back: it joins at the end of the next pause.
              this.#progress[rank] = null;
              this.#joinOrRefuse(rank, header.address);
              break;
            }
            this.#progress[rank] = {
              rank,
              host: this.#remotes[rank],
              step: null,
              heardAt: now,
              waiting: false,
              done: false,
            };
            if (++this.registered === this.#startingMembers.length) {
              // Before anyone dials: a loopback address that other hosts would dial fails here.
              const unreachable = unreachableLoopback(
                this.#addresses,
                this.#remotes,
                ownAddresses(),
              );
              if (unreachable !== null) throw new ProtocolError(unreachable);
              const elastic = this.#events.elastic;
              if (elastic !== undefined) {
                this.#membership = this.#startMembership(elastic.minWorkers);
              }
              await this.#start();
            }
            break;
          case "metrics":
            if (!Array.isArray(header.lines)) {
              throw new ProtocolError(`Worker ${rank} sent metrics without lines`);
            }
            this.#events.metrics(header.lines);
            this.#heard(rank, {
              waiting: false,
              ...lastStepOf(header.lines, this.#progress[rank]),
            });
            break;
          case "waiting":
            checkOwnRank(rank, header.rank, "a waiting notice");
            this.#heard(rank, { waiting: header.waiting === true });
            break;
          case "done":
            if (finished) throw new ProtocolError(`Worker ${rank} sent its final model twice`);
            checkOwnRank(rank, header.rank, "its final model");
            this.models[rank] = modelOf(rank, header.parameters, body);
            if (rank === 0) this.tensors = layoutOf(rank, header.tensors, header.parameters);
            this.#layouts.set(rank, header.tensors);
            finished = true;
            this.#heard(rank, { done: true });
            this.#finished.add(rank);
            this.#checkFinished();
            break;
          case "checkpoint":
            checkOwnRank(rank, header.rank, "a checkpoint");
            if (!Number.isSafeInteger(header.step) || header.step < 0) {
              throw new ProtocolError(`Worker ${rank} sent a checkpoint without a step`);
            }
            this.#events.checkpoints.save(rank, header.step, decodeState(header.state, body));
            break;
          case "lost":
            checkOwnRank(rank, header.rank, "a lost peer");
            if (this.#membership === null || !Number.isInteger(header.peer)) {
              throw new ProtocolError(`Worker ${rank} reported a lost peer outside an elastic run`);
            }
            this.#reportedLost(rank, header.peer, header.epoch, String(header.message));
            break;
          case "paused":
            checkOwnRank(rank, header.rank, "a pause");
            if (this.#membership === null) {
              throw new ProtocolError(`Worker ${rank} paused outside an elastic run`);
            }
            checkAddress(rank, header.address);
            if (
              !Number.isSafeInteger(header.epoch) || !Number.isSafeInteger(header.step) ||
              !Array.isArray(header.snapshots) ||
              !header.snapshots.every((step) => Number.isSafeInteger(step))
            ) throw new ProtocolError(`Worker ${rank} sent an invalid pause`);
            this.#membership.paused(rank, {
              epoch: header.epoch,
              step: header.step,
              snapshots: header.snapshots,
              address: header.address,
            });
            break;
          case "error":
            reported = true;
            // A worker an elastic run went on without says why it stopped: that is no failure.
            if (!this.isLive(rank)) break;
            if (
              Number.isInteger(header.peer) && header.peer! >= 0 && header.peer! < this.#n
            ) failures.blame(rank, header.peer!, String(header.message));
            else failures.fail(String(header.message));
            break;
          default:
            throw new ProtocolError(
              `Worker ${rank} sent an unknown control message "${
                String((header as { type: unknown }).type)
              }"`,
            );
        }
      }
      if (!finished && !reported && current()) {
        this.#lose(
          rank,
          `Worker ${rank} disconnected from the coordinator before finishing (it died or was killed)`,
        );
      }
    } catch (error) {
      closeQuietly(conn);
      if (error instanceof ProtocolError || error instanceof FrameAuthError) {
        failures.fail(error.message);
      } else if (!finished && !this.#closed && current()) {
        // (A connection cut after the worker's final model, or by the run's end, lost nothing.)
        this.#lose(rank, `Lost the control connection of worker ${rank}: ${messageOf(error)}`);
      }
    }
  }
}

/** The newest step of a worker's step lines, as a progress change (none: no change). */
function lastStepOf(
  lines: readonly unknown[],
  before: WorkerProgress | null | undefined,
): { step?: number } {
  let step = before?.step ?? null;
  for (const line of lines) {
    const { type, step: at } = (line ?? {}) as { type?: unknown; step?: unknown };
    if (type === "step" && Number.isSafeInteger(at) && (step === null || (at as number) > step)) {
      step = at as number;
    }
  }
  return step === null ? {} : { step };
}

/** The host a connection came from, or `null` when it does not say. */
function remoteHostOf(conn: Deno.Conn): string | null {
  try {
    return (conn.remoteAddr as Deno.NetAddr).hostname;
  } catch {
    return null;
  }
}

/** A worker's message must be about itself. */
function checkOwnRank(rank: number, claimed: unknown, what: string): void {
  if (claimed !== rank) {
    throw new ProtocolError(`Worker ${rank} sent ${what} as worker ${String(claimed)}`);
  }
}

/** A worker's mesh address must be `host:port`. */
function checkAddress(rank: number, address: unknown): void {
  try {
    if (typeof address !== "string") throw new RangeError("not text");
    parseAddress(address);
  } catch {
    throw new ProtocolError(`Worker ${rank} registered an invalid mesh address`);
  }
}

/** The final model of a `done` message: exactly `parameters` float32 values. */
function modelOf(rank: number, parameters: unknown, body: Uint8Array): Float32Array {
  if (
    typeof parameters !== "number" || !Number.isSafeInteger(parameters) || parameters < 0 ||
    body.byteLength !== parameters * 4 || body.byteOffset % 4 !== 0
  ) {
    throw new ProtocolError(
      `Worker ${rank} sent a final model of ${body.byteLength} bytes for ${
        String(parameters)
      } parameters`,
    );
  }
  return new Float32Array(body.buffer, body.byteOffset, parameters);
}

/** A worker's tensor layout, checked: named tensors whose sizes add up to its parameters. */
function layoutOf(rank: number, tensors: unknown, parameters: number): TensorLayout[] {
  const valid = Array.isArray(tensors) &&
    tensors.every((tensor) =>
      typeof tensor?.name === "string" && Array.isArray(tensor.shape) &&
      tensor.shape.every((size: unknown) => Number.isSafeInteger(size) && (size as number) >= 0)
    );
  const layout = valid ? tensors as TensorLayout[] : [];
  const total = layout.reduce((sum, { shape }) => sum + shape.reduce((a, b) => a * b, 1), 0);
  if (!valid || total !== parameters) {
    throw new ProtocolError(
      `Worker ${rank} sent a tensor layout that does not describe its ${parameters} parameters`,
    );
  }
  return layout;
}
