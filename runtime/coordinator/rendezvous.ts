/**
 * The coordinator's rendezvous: the listener every worker's control connection reaches, and the
 * protocol on those connections (`../control.ts`). Workers register (`hello`, with their mesh
 * address); once all have, every worker gets the address table (`start`); then metrics stream
 * in, and each worker ends with its final model (`done`) or the cause of its failure (`error`).
 *
 * @module
 */

import { formatAddress, parseAddress } from "../comm/tcp_address.ts";
import {
  ControlWriter,
  type CoordinatorMessage,
  readControl,
  type WorkerMessage,
} from "../control.ts";
import type { MetricsLine } from "../metrics.ts";
import type { RuntimeFacts } from "../run_types.ts";
import type { RunFailures } from "./failures.ts";
import { decodeState, encodeState } from "../worker_state.ts";
import type { CheckpointHooks } from "./checkpoints.ts";

/**
 * Opens the rendezvous listener.
 *
 * @param address `host:port` (port 0: any free port).
 * @returns The listener and the address it really listens at.
 * @throws {Error} When the address is invalid or the port is busy, naming the address.
 */
export function listenRendezvous(address: string): { listener: Deno.Listener; address: string } {
  const wanted = parseAddress(address);
  let listener: Deno.Listener;
  try {
    listener = Deno.listen({ ...wanted, transport: "tcp" });
  } catch (error) {
    throw new Error(
      `Cannot listen at ${address}: ${
        error instanceof Deno.errors.AddrInUse
          ? "the port is already in use"
          : (error as Error).message
      }`,
    );
  }
  const local = listener.addr as Deno.NetAddr;
  return { listener, address: formatAddress(local.hostname, local.port) };
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
}

/** The coordinator's side of every worker's control connection. */
export class Rendezvous {
  /** Each worker's final model, by rank, as `done` messages arrive. */
  readonly models: Float32Array[];
  /** Workers registered so far. */
  registered = 0;
  /** When anything was last heard from any worker (`performance.now()` time). */
  lastHeard = performance.now();
  readonly #n: number;
  readonly #listener: Deno.Listener;
  readonly #events: RendezvousEvents;
  readonly #writers = new Map<number, ControlWriter>();
  readonly #addresses: string[];
  readonly #conns = new Set<Deno.Conn>();
  readonly #reported = new Set<number>();
  readonly #accepting: Promise<void>;
  #done = 0;

  /**
   * Starts accepting control connections.
   *
   * @param listener The rendezvous listener (closed by {@linkcode Rendezvous.close}).
   * @param n The number of workers.
   * @param events Where metrics, failures and worker facts go.
   */
  constructor(listener: Deno.Listener, n: number, events: RendezvousEvents) {
    this.#n = n;
    this.#listener = listener;
    this.#events = events;
    this.models = new Array(n);
    this.#addresses = new Array(n);
    this.#accepting = this.#accept();
  }

  /**
   * Tells every registered worker to stop.
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
    this.#listener.close();
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await this.#accepting;
  }

  /**
   * Sends every worker the address table, the checkpoint period and, when the run resumes, its
   * own state from the checkpoint.
   */
  async #start(): Promise<void> {
    const { every, resume } = this.#events.checkpoints;
    await Promise.all([...this.#writers.entries()].map(([rank, writer]) => {
      const state = resume === null ? null : encodeState(resume.workers[rank]!);
      const start: CoordinatorMessage = {
        type: "start",
        addresses: this.#addresses,
        checkpointEvery: every,
        resume: state === null ? null : { step: resume!.step, state: state.header },
      };
      return writer.send(start, state?.body);
    }));
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#conns.add(conn);
        this.#serve(conn).finally(() => this.#conns.delete(conn));
      }
    } catch { /* listener closed */ }
  }

  /** Handles one worker's control connection from hello to done. */
  async #serve(conn: Deno.Conn): Promise<void> {
    const { failures, facts } = this.#events;
    const n = this.#n;
    let rank = -1;
    let finishedCleanly = false;
    try {
      for await (const { header, body } of readControl<WorkerMessage>(conn)) {
        this.lastHeard = performance.now();
        if (header.type === "hello") {
          if (header.rank < 0 || header.rank >= n || this.#writers.has(header.rank)) {
            failures.fail(
              `A worker registered as rank ${header.rank}, which is ${
                header.rank < 0 || header.rank >= n ? `outside 0..${n - 1}` : "already taken"
              }`,
            );
            return;
          }
          rank = header.rank;
          this.#writers.set(rank, new ControlWriter(conn));
          this.#addresses[rank] = header.address;
          facts.backend ??= header.backend;
          facts.backendReason ??= header.backendReason;
          facts.tfjs ??= header.tfjsVersion;
          if (++this.registered === n) await this.#start();
        } else if (header.type === "metrics") {
          this.#events.metrics(header.lines);
        } else if (header.type === "done") {
          this.models[header.rank] = new Float32Array(
            body.buffer,
            body.byteOffset,
            header.parameters,
          );
          finishedCleanly = true;
          if (++this.#done === n) failures.succeed();
        } else if (header.type === "checkpoint") {
          this.#events.checkpoints.save(header.rank, header.step, decodeState(header.state, body));
        } else if (header.type === "error") {
          this.#reported.add(header.rank);
          if (header.peer === undefined) failures.fail(header.message);
          else failures.blame(header.rank, header.peer, header.message);
        }
      }
      if (!finishedCleanly && !this.#reported.has(rank)) {
        failures.fail(
          rank === -1
            ? "A worker disconnected before registering"
            : `Worker ${rank} disconnected from the coordinator before finishing (it died or was killed)`,
        );
      }
    } catch (error) {
      failures.fail(`Lost the control connection of worker ${rank}: ${(error as Error).message}`);
    }
  }
}
