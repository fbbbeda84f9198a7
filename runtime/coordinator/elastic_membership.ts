/**
 * The coordinator's side of an elastic TCP run losing workers: it decides the membership, and
 * every survivor follows. The protocol, in epochs:
 *
 * 1. A worker is lost: its control connection closed before it finished (killed, host gone),
 *    or a survivor reported that it cannot reach it (`lost`). It leaves the live set (and is
 *    told to stop if it is still connected).
 * 2. Below `minWorkers`, or when the lost worker is one the run cannot go on without
 *    (`essential`: CADA's server, a star's hub), the run fails as a lost worker fails any run. Otherwise the epoch
 *    advances and every survivor is told to `pause`: it closes its communication thread, which
 *    ends whatever collective it waited in, opens a fresh mesh listener and answers `paused`
 *    with the step it was in (or the earlier step that started a collective still in flight
 *    across steps: overlapLocalSgd, streamingDiloco), the steps whose start it kept a snapshot
 *    of, and its new address.
 * 3. Once every survivor paused in this epoch, the run rewinds to the earliest of their steps,
 *    `rewindTo`: no survivor got past it without the lost worker, and every survivor can go back
 *    to its start (or the run fails, saying which survivor cannot). Every survivor gets the
 *    `members` message (the survivors, their new addresses, `rewindTo`), forms a mesh over the
 *    survivors only and trains on from `rewindTo`. A step in flight is thus redone over the
 *    survivors on every survivor, never half-applied; replayed on the memory transport with
 *    the lost worker declared to leave at `rewindTo + 1`, the run gives the same parameters.
 *
 * A second loss while survivors pause starts the next epoch: survivors that paused already
 * answer the new epoch's `pause` again, from where they wait.
 *
 * A lost worker that comes back (restarted with the run's secret, as its launcher does, or by
 * hand with `--join`) registers as its rank again: the live workers pause as for a loss, and at
 * the epoch's end it is a member again, with the state of the lowest-ranked survivor at
 * `rewindTo` (sent over the new mesh, see `worker_loop.ts`'s `handOverState`; each base says
 * what a joiner takes of it: `algorithms/chain.ts`'s `joinerBuffers` and `BaseAlgorithm.joining`).
 * Each change of members is told to the checkpoint writer (`rewound`), so a checkpoint holds the
 * members of its step and the workers lost before it.
 *
 * @module
 */

import type { JoinTerms } from "../control.ts";
import type { MembershipLine } from "../metrics.ts";

/** What a survivor says when it paused. */
export interface Paused {
  /** The epoch it paused in. */
  readonly epoch: number;
  /**
   * The step index it was in (its collective failed or was stopped there), or the earlier one
   * that started a collective still in flight across steps (overlapLocalSgd, streamingDiloco),
   * which the lost worker may have left half done.
   */
  readonly step: number;
  /** The step indices whose start it kept (it can rewind to any of them). */
  readonly snapshots: readonly number[];
  /** `host:port` of its new mesh listener. */
  readonly address: string;
}

/** A worker that left the run, as `params.json` and the summary record it. */
export interface LostWorker {
  /** Its rank. */
  readonly worker: number;
  /** The step index the survivors rewound to without it: it did `step` steps with them. */
  readonly steps: number;
  /** Why it was lost, in words. */
  readonly reason: string;
}

/** What the membership does to the run. */
export interface MembershipActions {
  /** Tells survivor `rank` to pause in `epoch`. */
  pause(rank: number, epoch: number, reason: string): void;
  /** Tells survivor `rank` the new members. */
  members(
    rank: number,
    message: {
      epoch: number;
      members: number[];
      addresses: string[];
      rewindTo: number;
      joined: number[];
      donor: number | null;
    },
  ): void;
  /** Tells a lost worker that is still connected to stop. */
  dismiss(rank: number, reason: string): void;
  /** Tells a joining worker how it joins (its `start` message). */
  admit(rank: number, terms: JoinTerms & { addresses: string[] }): void;
  /** Records the change (a `membership` line of `metrics.jsonl`). */
  record(line: MembershipLine): void;
  /**
   * The survivors go on from step index `rewindTo` over `members`; `lost` are every worker lost
   * so far. Told before any member hears of it (the checkpoints of the replaced steps go).
   */
  rewound?(rewindTo: number, members: readonly number[], lost: readonly LostWorker[]): void;
  /** The run cannot go on. */
  fail(message: string): void;
  /**
   * What worker `rank` is when the run cannot go on without it (`"cada's server"`, the hub of
   * a star), or `null` for a worker the run may lose. Absent: every worker may be lost.
   */
  essential?(rank: number): string | null;
}

/** The live set of an elastic TCP run and its epochs. */
export class ElasticMembership {
  /** The workers that left, in the order they did. */
  readonly lost: LostWorker[] = [];
  readonly #live: Set<number>;
  readonly #workers: number;
  readonly #minWorkers: number;
  readonly #act: MembershipActions;
  #epoch = 0;
  /** Survivors' answers in the current epoch, by rank. */
  #paused = new Map<number, Paused>();
  /** Workers lost since the last `members` message, with why. */
  #pending: { worker: number; reason: string }[] = [];
  /** Workers waiting to join at the next `members` message, with their mesh addresses. */
  readonly #joining = new Map<number, string>();

  /**
   * @param workers The plan's workers.
   * @param minWorkers Fewer live workers than this end the run.
   * @param act What the membership does.
   * @param resumed A run resumed from an elastic checkpoint: its members (live at the start)
   *   and the workers lost before it. Absent: every worker is live at the start.
   */
  constructor(
    workers: number,
    minWorkers: number,
    act: MembershipActions,
    resumed?: { members: readonly number[]; lost: readonly LostWorker[] },
  ) {
    this.#live = new Set(resumed?.members ?? Array.from({ length: workers }, (_, rank) => rank));
    this.lost.push(...resumed?.lost ?? []);
    this.#workers = workers;
    this.#minWorkers = minWorkers;
    this.#act = act;
  }

  /** The live workers, ascending. */
  get live(): number[] {
    return [...this.#live].sort((a, b) => a - b);
  }

  /** Whether `rank` is still a member. */
  isLive(rank: number): boolean {
    return this.#live.has(rank);
  }

  /** The current epoch: 0 until the first loss or join, then one more for each. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Whether survivors are pausing (between a loss or a join and the next `members` message). */
  get reforming(): boolean {
    return this.#pending.length > 0 || this.#joining.size > 0;
  }

  /**
   * A lost worker came back (restarted, with the run's secret): the live workers pause for a
   * new epoch, and it joins at its end with a live worker's state.
   *
   * @param rank The joining worker (a rank the run lost).
   * @param address `host:port` of its mesh listener.
   */
  join(rank: number, address: string): void {
    this.#joining.set(rank, address);
    this.#pauseAll();
  }

  /** Starts the next epoch: every live worker pauses. */
  #pauseAll(): void {
    this.#epoch++;
    this.#paused = new Map();
    const why = this.#joining.size > 0 && this.#pending.length === 0
      ? `worker ${[...this.#joining.keys()].join(", ")} joins`
      : this.#pending.map((entry) => entry.reason).join("; ");
    for (const survivor of this.#live) this.#act.pause(survivor, this.#epoch, why);
  }

  /**
   * Worker `rank` is lost: it leaves, and the survivors pause for a new epoch (or the run fails
   * below `minWorkers`). A worker lost already is ignored.
   *
   * @param rank The lost worker.
   * @param reason Why, in words (names the worker).
   */
  lose(rank: number, reason: string): void {
    // A joiner lost before it joined simply does not join.
    if (this.#joining.delete(rank)) {
      this.#completeIfPaused(); // the paused survivors go on without it
      return;
    }
    if (!this.#live.has(rank)) return;
    const role = this.#act.essential?.(rank) ?? null;
    if (role !== null) {
      this.#act.fail(`worker ${rank}, ${role}, was lost: ${reason}`);
      return;
    }
    this.#live.delete(rank);
    this.#act.dismiss(rank, `the run goes on without worker ${rank}: ${reason}`);
    if (this.#live.size < this.#minWorkers) {
      this.#act.fail(
        `${reason}; ${this.#live.size} workers are left, fewer than the plan's minWorkers (${this.#minWorkers})`,
      );
      return;
    }
    this.#pending.push({ worker: rank, reason });
    this.#pauseAll();
  }

  /**
   * Worker `rank` is lost after the final barrier (another worker already handed back its
   * model, so every worker finished every step): it leaves without a pause, having done `steps`.
   *
   * @param rank The lost worker.
   * @param reason Why, in words.
   * @param steps The plan's steps.
   */
  loseAtEnd(rank: number, reason: string, steps: number): void {
    if (!this.#live.delete(rank)) return;
    this.lost.push({ worker: rank, steps, reason });
    this.#act.record({
      type: "membership",
      step: steps,
      worker: this.live[0]!,
      left: [rank],
      members: this.live,
      reason: "lost",
      detail: reason,
    });
  }

  /**
   * A survivor paused. Once every survivor of the current epoch has, the run rewinds and the
   * survivors get their new members.
   *
   * @param rank The survivor.
   * @param paused Where it stopped and what it kept.
   */
  paused(rank: number, paused: Paused): void {
    if (!this.#live.has(rank) || paused.epoch !== this.#epoch) return; // stale or dismissed
    this.#paused.set(rank, paused);
    this.#completeIfPaused();
  }

  /** Once every live worker paused in this epoch: rewind, and hand out the new members. */
  #completeIfPaused(): void {
    const survivors = this.live;
    if (survivors.some((member) => !this.#paused.has(member))) return;
    const rewindTo = Math.min(...survivors.map((member) => this.#paused.get(member)!.step));
    const cannot = survivors.find((member) =>
      !this.#paused.get(member)!.snapshots.includes(rewindTo)
    );
    const left = this.#pending.map((entry) => entry.worker);
    if (cannot !== undefined) {
      const kept = this.#paused.get(cannot)!.snapshots;
      const without = left.length === 0
        ? ""
        : ` without ${left.map((worker) => `worker ${worker}`).join(", ")}`;
      this.#act.fail(
        `Worker ${cannot} cannot go back to step ${
          rewindTo + 1
        } to continue${without}: it kept the state of steps ${
          kept.map((step) => step + 1).join(", ") || "none"
        }`,
      );
      return;
    }
    const joined = [...this.#joining.keys()].sort((a, b) => a - b);
    const addresses: string[] = [];
    for (const member of survivors) addresses[member] = this.#paused.get(member)!.address;
    for (const rank of joined) addresses[rank] = this.#joining.get(rank)!;
    for (const { worker, reason } of this.#pending) {
      this.lost.push({ worker, steps: rewindTo, reason });
    }
    // A worker that joins again is no longer lost.
    for (const rank of joined) {
      const at = this.lost.findIndex((entry) => entry.worker === rank);
      if (at >= 0) this.lost.splice(at, 1);
      this.#live.add(rank);
    }
    const members = this.live;
    this.#act.rewound?.(rewindTo, members, this.lost);
    const donor = joined.length === 0 ? null : survivors[0]!;
    if (left.length + joined.length > 0) {
      this.#act.record({
        type: "membership",
        step: rewindTo,
        worker: members[0]!,
        left,
        members,
        reason: left.length > 0 ? "lost" : "joined",
        ...(left.length > 0
          ? { detail: this.#pending.map((entry) => entry.reason).join("; ") }
          : {}),
        ...(joined.length > 0 ? { joined } : {}),
      });
    }
    this.#pending = [];
    this.#joining.clear();
    // Every rank's entry, "" for non-members (a trailing non-member too).
    const full = Array.from({ length: this.#workers }, (_, rank) => addresses[rank] ?? "");
    for (const member of survivors) {
      this.#act.members(member, {
        epoch: this.#epoch,
        members,
        addresses: full,
        rewindTo,
        joined,
        donor,
      });
    }
    for (const rank of joined) {
      this.#act.admit(rank, {
        epoch: this.#epoch,
        members,
        addresses: full,
        rewindTo,
        donor: donor!,
      });
    }
  }
}
