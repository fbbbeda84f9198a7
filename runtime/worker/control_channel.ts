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
  type JoinTerms,
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
  /** Elastic runs: how this worker joins the run in progress (absent at the run's start). */
  readonly join?: JoinTerms;
  /** Elastic runs resumed without the workers lost before the checkpoint: the members. */
  readonly members?: readonly number[];
}

/** An elastic run's new members, as the coordinator's `members` message gives them. */
export interface Members {
  readonly epoch: number;
  readonly members: readonly number[];
  /** The members' mesh addresses, by rank (`""` for others). */
  readonly addresses: readonly string[];
  /** The step index to go back to. */
  readonly rewindTo: number;
  /** Workers that join now, to be sent `donor`'s state. */
  readonly joined: readonly number[];
  /** The member that sends the joiners their state, or `null`. */
  readonly donor: number | null;
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
  /** Elastic runs: the newest epoch the coordinator paused, and the newest members it sent. */
  #pauseEpoch = 0;
  #members: Members | null = null;
  /** Resolves at the next elastic message (or the end), then is replaced. */
  #changed = Promise.withResolvers<void>();
  /** Elastic runs: what a pause stops (the communication thread's collectives). */
  onPause: () => void = () => {};

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

  /** The newest epoch the coordinator paused this worker in (0: never). */
  get pauseEpoch(): number {
    return this.#pauseEpoch;
  }

  /**
   * Waits until the coordinator pauses this worker in an epoch after `epoch`.
   *
   * @param epoch The last epoch the worker went on from.
   * @returns The newest paused epoch.
   * @throws {Error} "Worker <rank> stopped: <why>" when the coordinator stopped this worker.
   */
  async pausedAfter(epoch: number): Promise<number> {
    while (this.#pauseEpoch <= epoch) await this.#next();
    return this.#pauseEpoch;
  }

  /**
   * Waits for the members of `epoch`, or a newer pause, whichever comes first.
   *
   * @param epoch The epoch this worker paused in.
   * @returns The members, or the newer epoch to pause in again.
   * @throws {Error} "Worker <rank> stopped: <why>" when the coordinator stopped this worker.
   */
  async membersOf(epoch: number): Promise<Members | number> {
    for (;;) {
      if (this.#pauseEpoch > epoch) return this.#pauseEpoch;
      if (this.#members?.epoch === epoch) return this.#members;
      await this.#next();
    }
  }

  /** Waits for the next elastic message; throws once the coordinator stopped this worker. */
  async #next(): Promise<void> {
    if (this.#stoppedBecause !== null) throw new Error(this.#stoppedBecause);
    await this.#changed.promise;
    if (this.#stoppedBecause !== null) throw new Error(this.#stoppedBecause);
  }

  /** Wakes whoever waits for an elastic message. */
  #wake(): void {
    this.#changed.resolve();
    this.#changed = Promise.withResolvers<void>();
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
            ...(header.join === undefined ? {} : { join: header.join }),
            ...(header.members === undefined ? {} : { members: header.members }),
          });
        }
        if (header.type === "pause" && header.epoch > this.#pauseEpoch) {
          this.#pauseEpoch = header.epoch;
          this.onPause();
          this.#wake();
        }
        if (header.type === "members") {
          const { epoch, members, addresses, rewindTo, joined, donor } = header;
          this.#members = { epoch, members, addresses, rewindTo, joined, donor };
          this.#wake();
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
    this.#wake();
    await onStop();
  }
}
