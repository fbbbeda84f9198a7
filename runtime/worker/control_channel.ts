/**
 * A worker's side of its control connection once it has joined (`join.ts`): what it sends the
 * coordinator, and a listener for what the coordinator sends it, which runs from the start,
 * beside whatever the worker is doing.
 *
 * The listener cannot wait until the worker asks. The start message (the mesh addresses, the
 * checkpoint period, the state to resume from) may come while the worker still loads its data
 * and model, and the coordinator's abort may come at any moment: an abort must stop the
 * collectives under way (the `onStop` hook closes the communication thread), and a worker that
 * fails must know whether the coordinator stopped it, so it can name the coordinator's cause
 * (a signal, another worker's death) rather than the symptom it saw itself.
 *
 * @module
 */

import { closeQuietly } from "../comm/net.ts";
import { FrameAuthError } from "../comm/frame_mac.ts";
import {
  ControlWriter,
  type CoordinatorMessage,
  readControl,
  type WorkerMessage,
} from "../control.ts";
import { messageOf } from "../errors.ts";
import { decodeState, type WorkerState } from "../worker_state.ts";
import type { Joined } from "./join.ts";

/** What the coordinator's start message tells a worker. */
export interface Start {
  /** Every worker's mesh address, by rank. */
  readonly addresses: readonly string[];
  /** Checkpoint every this many steps; `null` for none. */
  readonly checkpointEvery: number | null;
  /** The state to continue from, after its step; `null` for a fresh start. */
  readonly resume: (WorkerState & { readonly step: number }) | null;
  /** Whether every mesh frame carries a MAC. */
  readonly macMesh: boolean;
}

/** A joined worker's control connection: messages out, the coordinator's word in. */
export class ControlChannel {
  /**
   * The coordinator's start message, once every worker registered; rejects with
   * "Worker <rank> stopped: <why>" when the coordinator stops this worker first.
   */
  readonly started: Promise<Start>;
  /**
   * Resolves once the coordinator's messages ended (its abort, a closed or unreadable
   * connection) and `onStop` has run; never rejects.
   */
  readonly ended: Promise<void>;
  readonly #conn: Deno.Conn;
  readonly #writer: ControlWriter;
  #stoppedBecause: string | null = null;

  /**
   * Starts listening to the coordinator.
   *
   * @param joined The authenticated connection and the bytes read past its handshake.
   * @param rank This worker's rank.
   * @param onStop Runs once the coordinator stopped this worker (closes what it computes with).
   */
  constructor(joined: Joined, rank: number, onStop: () => Promise<void> | undefined) {
    this.#conn = joined.conn;
    this.#writer = new ControlWriter(joined.conn, rank, joined.session.send);
    const start = Promise.withResolvers<Start>();
    // An abort can come before anything awaits the start (while data loads): not unhandled.
    start.promise.catch(() => {});
    this.started = start.promise;
    this.ended = this.#listen(joined, rank, start, onStop).catch(() => {});
  }

  /**
   * Why the coordinator stopped this worker: its abort's reason, or what became of the
   * connection; `null` while it has not.
   */
  get stoppedBecause(): string | null {
    return this.#stoppedBecause;
  }

  /**
   * Sends the coordinator a message.
   *
   * @param message The message.
   * @param body Its binary body (a model, a checkpoint's state).
   * @returns Resolves once written.
   */
  send(message: WorkerMessage, body?: Uint8Array): Promise<void> {
    return this.#writer.send(message, body);
  }

  /** Closes the connection, which ends the listener. */
  close(): void {
    closeQuietly(this.#conn);
  }

  async #listen(
    { leftover, session }: Joined,
    rank: number,
    start: PromiseWithResolvers<Start>,
    onStop: () => Promise<void> | undefined,
  ): Promise<void> {
    try {
      for await (
        const { header, body } of readControl<CoordinatorMessage>(this.#conn, {
          leftover,
          authenticate: { key: session.receive, peer: "the coordinator" },
        })
      ) {
        if (header.type === "start") {
          start.resolve({
            addresses: header.addresses,
            checkpointEvery: header.checkpointEvery,
            resume: header.resume === null
              ? null
              : { step: header.resume.step, ...decodeState(header.resume.state, body) },
            macMesh: header.macMesh === true,
          });
        }
        if (header.type === "abort") {
          this.#stoppedBecause = String(header.reason);
          break;
        }
      }
    } catch (error) {
      this.#stoppedBecause = error instanceof FrameAuthError
        ? error.message
        : `the coordinator's messages could not be read (${messageOf(error)})`;
    }
    this.#stoppedBecause ??= "the coordinator closed the connection";
    start.reject(new Error(`Worker ${rank} stopped: ${this.#stoppedBecause}`));
    await onStop();
  }
}
