/**
 * Checkpoints of a run: every worker's state after the same number of steps, gathered by the
 * coordinator into one file per checkpoint (`<run>/checkpoints/step-00000200.safetensors`
 * after 200 steps, in the safetensors format; tensors
 * `worker3/adam.m`, metadata with the step and the plan's hash), written atomically (a temporary
 * file, then a rename) so a crash never leaves a half-written checkpoint, and pruned to the
 * newest few.
 *
 * @module
 */

import { join } from "node:path";
import type { Plan } from "../../dsl/plan.ts";
import { planHash } from "../plan_hash.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsHeader,
  SafetensorsError,
} from "../safetensors.ts";
import { messageOf } from "../errors.ts";
import type { LostWorkerRecord, ResumePoint } from "../run_types.ts";
import type { WorkerState } from "../worker_state.ts";
import { writeAtomic } from "./run_folder.ts";
import { DiskWriteError } from "./disk_full.ts";

/** The format written in every checkpoint's metadata. */
export const CHECKPOINT_FORMAT = "gossamer-checkpoint/1";

/**
 * Plan keys a resumed run may change: the steps (to continue further) and the evaluation period.
 * Everything else must equal the plan that wrote the checkpoint.
 */
export const RESUMABLE_KEYS: readonly string[] = ["steps", "evalEvery"];

/** Checkpoints kept unless told otherwise. */
export const DEFAULT_KEEP = 3;

/** What the transports do about checkpoints in a run. */
export interface CheckpointHooks {
  /** Checkpoint every this many steps (and after the last); `null` for none. */
  readonly every: number | null;
  /** Takes one worker's state after a step. */
  readonly save: (rank: number, step: number, state: WorkerState) => void;
  /** The checkpoint the run continues from; `null` for a fresh start. */
  readonly resume: ResumePoint | null;
  /** Elastic runs: worker `rank` left by declaration with `state` (memory transport). */
  readonly departed?: (rank: number, state: WorkerState) => void;
  /**
   * Elastic TCP runs: the survivors went on from step index `rewindTo` over `members`, and
   * `lost` are every worker lost so far ({@linkcode CheckpointWriter.rewound}).
   */
  readonly rewound?: (
    rewindTo: number,
    members: readonly number[],
    lost: readonly LostWorkerRecord[],
  ) => void;
}

/**
 * How a run ran: its clock and transport. A checkpoint records them so that a resumed run keeps
 * them; a run on the virtual clock resumed in real time over TCP would still be correct, but its
 * summary would mix simulated and wall-clock time.
 */
export interface RunHow {
  /** `real` or `virtual` (see `RunOptions.clock`). */
  readonly clock: "real" | "virtual";
  /** `tcp` or `memory`. */
  readonly transport: "tcp" | "memory";
}

/** A checkpoint, read. */
export interface Checkpoint {
  /** The steps done when it was taken (it continues with step index `step`). */
  readonly step: number;
  /** The hash of the plan that wrote it, without {@linkcode RESUMABLE_KEYS}. */
  readonly planHash: string;
  /** Each worker's state, by rank. */
  readonly workers: readonly WorkerState[];
  /** Its file. */
  readonly path: string;
  /** The checkpoint period of the run that wrote it. */
  readonly every: number;
  /** How many checkpoints that run kept. */
  readonly keep: number;
  /**
   * The clock and transport of the run that wrote it. Checkpoints written before they were
   * recorded: the virtual clock (and so the memory transport) when the workers' states carry
   * simulated times, else the real clock and an unknown transport (`null`).
   */
  readonly how: { readonly clock: RunHow["clock"]; readonly transport: RunHow["transport"] | null };
  /** Elastic runs: the workers live when it was taken, ascending; `null`: every worker. */
  readonly members: readonly number[] | null;
  /** Elastic TCP runs: the workers lost before it was taken (they have no state). */
  readonly lost: readonly LostWorkerRecord[];
}

/** A checkpoint that cannot be used; the message says which and why. */
export class CheckpointError extends Error {
  /**
   * Builds the error.
   *
   * @param message What is wrong.
   * @param usableStep The steps of an older checkpoint that can be used instead, where one can.
   */
  constructor(message: string, readonly usableStep: number | null = null) {
    super(message);
    this.name = "CheckpointError";
  }
}

/** The folder of a run's checkpoints. */
export function checkpointFolder(runFolder: string): string {
  return join(runFolder, "checkpoints");
}

/**
 * The file of the checkpoint after `step` steps.
 *
 * @param runFolder The run folder.
 * @param step The step.
 * @returns Its path.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkpointPath } from "./checkpoints.ts";
 * assert.equal(checkpointPath("runs/a", 199), "runs/a/checkpoints/step-00000199.safetensors");
 * ```
 */
export function checkpointPath(runFolder: string, step: number): string {
  return join(checkpointFolder(runFolder), `step-${String(step).padStart(8, "0")}.safetensors`);
}

/**
 * The steps a run folder has checkpoints of, in order.
 *
 * @param runFolder The run folder.
 * @returns The steps (none when the folder has no checkpoints).
 */
export async function listCheckpoints(runFolder: string): Promise<number[]> {
  const steps: number[] = [];
  try {
    for await (const entry of Deno.readDir(checkpointFolder(runFolder))) {
      const match = /^step-(\d+)\.safetensors$/.exec(entry.name);
      if (entry.isFile && match !== null) steps.push(Number(match[1]));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return steps.sort((a, b) => a - b);
}

/**
 * The digest stored in a checkpoint's metadata (`digest`): SHA-256 of its header without the
 * digest (metadata, tensor names, shapes and offsets) followed by the SHA-256 of its tensor
 * data, in hex. It detects a damaged or edited file (a flipped bit, a truncated copy, an edited
 * step); it is not a signature: whoever can write the run folder can write a new digest too.
 *
 * @param header The file's header, as {@linkcode readSafetensorsHeader} returns it.
 * @param data The file's tensor data.
 * @returns The digest, hex.
 */
export async function checkpointDigest(
  header: Record<string, unknown>,
  data: Uint8Array,
): Promise<string> {
  const { digest: _digest, ...metadata } = (header.__metadata__ ?? {}) as Record<string, string>;
  const dataDigest = hex(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));
  const described = JSON.stringify({ ...header, __metadata__: metadata }) + dataDigest;
  return hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(described)));
}

/** Bytes as lower-case hex. */
function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A count in a checkpoint's metadata: a safe integer of at least `min`, or `null`. */
function countOf(value: string | undefined, min: number): number | null {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return null;
  const count = Number(value);
  return Number.isSafeInteger(count) && count >= min ? count : null;
}

/**
 * Reads a checkpoint: the one after the given number of steps, or the newest. Everything is
 * checked before anything the metadata sizes is allocated: the format, the step (it must be the
 * file name's), the number of workers (the plan's), that every tensor belongs to one of them,
 * and the digest of the whole file ({@linkcode checkpointDigest}). The workers check their
 * buffers' names and sizes against their own state when they restore it.
 *
 * @param runFolder The run folder.
 * @param plan The plan that will continue from it.
 * @param step The step, or `undefined` for the newest.
 * @returns The checkpoint.
 * @throws {CheckpointError} When there is none, or it is damaged or does not fit the plan.
 */
export async function readCheckpoint(
  runFolder: string,
  plan: Plan,
  step?: number,
): Promise<Checkpoint> {
  const steps = await listCheckpoints(runFolder);
  if (steps.length === 0) {
    throw new CheckpointError(
      `${runFolder} has no checkpoints (run with --checkpoint-every K to write them)`,
    );
  }
  const chosen = step ?? steps.at(-1)!;
  if (!steps.includes(chosen)) {
    throw new CheckpointError(
      `${runFolder} has no checkpoint after ${chosen} steps (it has ${steps.join(", ")})`,
    );
  }
  const path = checkpointPath(runFolder, chosen);
  let bytes;
  let header;
  let data;
  try {
    bytes = await Deno.readFile(path);
    ({ header, data } = readSafetensorsHeader(bytes));
  } catch (error) {
    const why = error instanceof SafetensorsError ? error.message : messageOf(error);
    throw new CheckpointError(`Cannot read checkpoint ${path}: ${why}`);
  }
  const metadata = (header.__metadata__ ?? {}) as Record<string, unknown>;
  const text = (key: string) => typeof metadata[key] === "string" ? metadata[key] : undefined;
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      `${path} is not a gossamer checkpoint (format ${cut(String(metadata.format))})`,
    );
  }
  const damaged = (why: string) => new CheckpointError(`${path} is damaged: ${why}`);
  if (countOf(text("step"), 0) !== chosen) {
    throw damaged(`its metadata says step ${cut(String(metadata.step))}, its name step ${chosen}`);
  }
  const workers = countOf(text("workers"), 1);
  if (workers !== plan.workers) {
    throw new CheckpointError(
      `${path} holds ${cut(String(metadata.workers))} workers, the plan has ${plan.workers}`,
    );
  }
  const every = countOf(text("every") ?? String(chosen + 1), 1);
  const keep = countOf(text("keep") ?? String(DEFAULT_KEEP), 1);
  if (every === null || keep === null) throw damaged("its checkpoint period or count is invalid");
  for (const name of Object.keys(header)) {
    if (name === "__metadata__") continue;
    const match = /^worker(\d{1,9})\/(.+)$/.exec(name);
    if (match === null || Number(match[1]) >= workers) {
      throw new CheckpointError(`${path}: tensor "${cut(name)}" belongs to no worker`);
    }
  }
  if (text("digest") === undefined) {
    throw damaged("it has no digest (written before checkpoints had one, or edited)");
  }
  if (await checkpointDigest(header, data) !== text("digest")) {
    throw damaged("its digest does not match its content (the file was changed after writing)");
  }
  let tensors;
  try {
    tensors = decodeSafetensors(bytes).tensors;
  } catch (error) {
    throw damaged(messageOf(error));
  }
  let virtual: (number | null)[];
  try {
    virtual = JSON.parse(text("virtualMs") ?? "[]");
    if (!Array.isArray(virtual)) throw new Error("not a list");
  } catch {
    throw damaged("its virtual times are not a list");
  }
  const members = membersOf(text("members"), workers);
  const lost = lostOf(text("lost"), workers);
  if (members === undefined || lost === undefined) {
    throw damaged("its members or lost workers are not a list of its workers");
  }
  const states: { buffers: { name: string; data: Float32Array | Float64Array }[] }[] = Array.from(
    { length: workers },
    () => ({ buffers: [] }),
  );
  for (const [name, data] of tensors) {
    const match = /^worker(\d+)\/(.+)$/.exec(name)!;
    states[Number(match[1])]!.buffers.push({ name: match[2]!, data });
  }
  const clock = text("clock") ??
    (virtual.some((ms) => typeof ms === "number") ? "virtual" : "real");
  const transport = text("transport") ?? (clock === "virtual" ? "memory" : null);
  if (clock !== "real" && clock !== "virtual") throw damaged(`its clock ${cut(clock)} is unknown`);
  if (transport !== null && transport !== "tcp" && transport !== "memory") {
    throw damaged(`its transport ${cut(transport)} is unknown`);
  }
  return {
    step: chosen,
    planHash: text("planHash") ?? "",
    workers: states.map((state, rank) => ({
      ...state,
      virtualMs: typeof virtual[rank] === "number" ? virtual[rank] : null,
    })),
    path,
    every,
    keep,
    how: { clock, transport },
    members,
    lost,
  };
}

/** The members in a checkpoint's metadata: `null` when absent, `undefined` when invalid. */
function membersOf(value: string | undefined, workers: number): number[] | null | undefined {
  if (value === undefined) return null;
  let members: unknown;
  try {
    members = JSON.parse(value);
  } catch {
    return undefined;
  }
  const valid = Array.isArray(members) && members.length > 0 &&
    members.every((rank, i) =>
      Number.isSafeInteger(rank) && rank >= 0 && rank < workers &&
      (i === 0 || rank > members[i - 1])
    );
  return valid ? members as number[] : undefined;
}

/** The lost workers in a checkpoint's metadata: none when absent, `undefined` when invalid. */
function lostOf(value: string | undefined, workers: number): LostWorkerRecord[] | undefined {
  if (value === undefined) return [];
  let lost: unknown;
  try {
    lost = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (!Array.isArray(lost)) return undefined;
  const valid = lost.every((entry) =>
    Number.isSafeInteger(entry?.worker) && entry.worker >= 0 && entry.worker < workers &&
    Number.isSafeInteger(entry.steps) && entry.steps >= 0 && typeof entry.reason === "string"
  );
  return valid
    ? lost.map(({ worker, steps, reason }: LostWorkerRecord) => ({
      worker,
      steps,
      reason: reason.slice(0, 2000),
    }))
    : undefined;
}

/** A value from a file, cut to a length a message can show. */
function cut(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

/**
 * Checks that a checkpoint belongs to a plan (up to {@linkcode RESUMABLE_KEYS}).
 *
 * @param checkpoint The checkpoint.
 * @param plan The plan to continue.
 * @throws {CheckpointError} Naming both when the checkpoint was written by another plan.
 */
export async function checkCheckpointPlan(checkpoint: Checkpoint, plan: Plan): Promise<void> {
  const hash = await planHash(plan, RESUMABLE_KEYS);
  if (hash !== checkpoint.planHash) {
    throw new CheckpointError(
      `${checkpoint.path} was written by another plan (plan hash ${
        checkpoint.planHash.slice(0, 12)
      }…, this plan's is ${
        hash.slice(0, 12)
      }…): only steps and evalEvery may change when a run resumes`,
    );
  }
  if (checkpoint.workers.length !== plan.workers) {
    throw new CheckpointError(
      `${checkpoint.path} holds ${checkpoint.workers.length} workers, the plan has ${plan.workers}`,
    );
  }
}

/**
 * Who a checkpoint of an elastic run waits for. A plain run's checkpoint holds every worker's
 * state after the same step; an elastic run's holds the members' states after that step, the
 * state each declared leaver left with (memory transport), and the list of the workers a TCP run
 * lost (they have no state; a resumed run goes on without them).
 */
export interface CheckpointMembership {
  /** The workers that took part in step index `step − 1`, or `null` to follow the TCP epochs. */
  readonly membersAt: ((step: number) => readonly number[]) | null;
  /** The members when the run starts (a resumed run: the checkpoint's). */
  readonly members: readonly number[];
  /** The workers lost before the run starts (a resumed run: the checkpoint's). */
  readonly lost: readonly LostWorkerRecord[];
}

/** The states gathered for one checkpoint step, and whose it waits for. */
interface Pending {
  readonly states: (WorkerState | undefined)[];
  /** The members whose state this checkpoint holds. */
  expected: readonly number[];
}

/**
 * Gathers the workers' states of each checkpoint step and writes the file once all arrived.
 */
export class CheckpointWriter {
  readonly #pending = new Map<number, Pending>();
  #writing: Promise<void> = Promise.resolve();
  /** The newest checkpoint written, or `null`. */
  latest: number | null = null;
  /** Every checkpoint written: its steps, its file size and how long writing it took. */
  readonly written: { step: number; bytes: number; writeMs: number }[] = [];
  /** The checkpoints removed to keep the newest {@linkcode keep}. */
  readonly #pruned = new Set<number>();
  /** Elastic runs: the members new checkpoint steps wait for (TCP: the current epoch's). */
  #members: readonly number[];
  /** Elastic runs: the state each declared leaver left with, by rank. */
  readonly #departed = new Map<number, WorkerState>();
  /** Elastic TCP runs: every worker lost so far, by rank (one that joined again too). */
  readonly #lost = new Map<number, LostWorkerRecord>();

  /** The steps of the checkpoints this run wrote that are still on disk, in order. */
  get kept(): number[] {
    return this.written.map((entry) => entry.step).filter((step) => !this.#pruned.has(step));
  }

  /**
   * @param runFolder The run folder.
   * @param hash The plan's hash without {@linkcode RESUMABLE_KEYS}.
   * @param workers Workers in the run.
   * @param every The checkpoint period (recorded, so a resumed run keeps it).
   * @param keep How many checkpoints to keep (the newest).
   * @param how The run's clock and transport (recorded, so a resumed run keeps them).
   * @param onError Told when a checkpoint cannot be written: a {@linkcode DiskWriteError} when
   *   the disk is the cause, else an error naming the step.
   * @param membership Elastic runs: who each checkpoint waits for; `null` for every worker.
   */
  constructor(
    readonly runFolder: string,
    readonly hash: string,
    readonly workers: number,
    readonly every: number,
    readonly keep: number,
    readonly how: RunHow,
    readonly onError: (error: Error) => void,
    readonly membership: CheckpointMembership | null = null,
  ) {
    this.#members = membership?.members ?? Array.from({ length: workers }, (_, rank) => rank);
    for (const entry of membership?.lost ?? []) this.#lost.set(entry.worker, entry);
  }

  /**
   * Takes one worker's state after `step`; the checkpoint is written once every worker's is in.
   *
   * @param rank The worker.
   * @param step The step.
   * @param state Its state.
   */
  add(rank: number, step: number, state: WorkerState): void {
    let pending = this.#pending.get(step);
    if (pending === undefined) {
      pending = {
        states: new Array(this.workers).fill(undefined),
        expected: this.membership?.membersAt?.(step) ?? this.#members,
      };
      this.#pending.set(step, pending);
    }
    pending.states[rank] = state;
    this.#writeReady();
  }

  /**
   * An elastic run's worker left by declaration after `step` steps: every later checkpoint holds
   * the state it left with (a resumed run hands it back as that worker's final model).
   *
   * @param rank The worker.
   * @param state Its state when it left.
   */
  departed(rank: number, state: WorkerState): void {
    this.#departed.set(rank, state);
    this.#writeReady();
  }

  /**
   * An elastic TCP run went on from step index `rewindTo` over `members`, having lost `lost`.
   * The states gathered for later steps belong to the timeline the survivors replace (they save
   * those steps again); a checkpoint up to `rewindTo` holds the survivors' states without the
   * lost workers (whose state a resumed run would not use). Call it before any survivor's
   * checkpoint of the new epoch can arrive.
   *
   * @param rewindTo The step index the survivors go on from.
   * @param members The members from then on (joiners included).
   * @param lost Every worker lost so far.
   */
  rewound(rewindTo: number, members: readonly number[], lost: readonly LostWorkerRecord[]): void {
    this.#members = [...members];
    for (const entry of lost) this.#lost.set(entry.worker, entry);
    const gone = new Set(lost.map((entry) => entry.worker));
    for (const [step, pending] of this.#pending) {
      if (step > rewindTo) this.#pending.delete(step);
      else pending.expected = pending.expected.filter((rank) => !gone.has(rank));
    }
    this.#writeReady();
  }

  /** Resolves once every checkpoint handed over so far is on disk. */
  settled(): Promise<void> {
    return this.#writing;
  }

  /** Writes every gathered checkpoint whose states are all in, in step order. */
  #writeReady(): void {
    // Declared leavers (memory transport) hand over a state; workers lost over TCP have none.
    const stateless = this.membership !== null && this.membership.membersAt === null;
    for (const step of [...this.#pending.keys()].sort((a, b) => a - b)) {
      const { states, expected } = this.#pending.get(step)!;
      const ready = states.map((state, rank) =>
        expected.includes(rank)
          ? state
          : stateless
          ? { buffers: [], virtualMs: null }
          : this.#departed.get(rank)
      );
      if (ready.some((entry) => entry === undefined)) continue;
      this.#pending.delete(step);
      const members = this.membership === null ? null : expected;
      const lostThen = stateless
        ? [...this.#lost.values()].filter((entry) => !expected.includes(entry.worker))
        : [];
      this.#writing = this.#writing
        .then(() => this.#write(step, ready as WorkerState[], members, lostThen))
        .catch((error) =>
          this.onError(
            error instanceof DiskWriteError
              ? error
              : new Error(`Cannot write the checkpoint of step ${step}: ${messageOf(error)}`),
          )
        );
    }
  }

  async #write(
    step: number,
    states: readonly WorkerState[],
    members: readonly number[] | null,
    lost: readonly LostWorkerRecord[],
  ): Promise<void> {
    const start = performance.now();
    const tensors = states.flatMap((state, rank) =>
      state.buffers.map(({ name, data }) => ({ name: `worker${rank}/${name}`, data }))
    );
    const metadata = {
      format: CHECKPOINT_FORMAT,
      step: String(step),
      planHash: this.hash,
      workers: String(this.workers),
      every: String(this.every),
      keep: String(this.keep),
      clock: this.how.clock,
      transport: this.how.transport,
      virtualMs: JSON.stringify(states.map((state) => state.virtualMs)),
      ...(members === null ? {} : { members: JSON.stringify(members) }),
      ...(lost.length === 0 ? {} : { lost: JSON.stringify(lost) }),
    };
    const { header, data } = readSafetensorsHeader(encodeSafetensors(tensors, metadata));
    const digest = await checkpointDigest(header, data);
    const bytes = encodeSafetensors(tensors, { ...metadata, digest });
    await Deno.mkdir(checkpointFolder(this.runFolder), { recursive: true });
    await writeAtomic(checkpointPath(this.runFolder, step), bytes);
    this.latest = step;
    this.written.push({ step, bytes: bytes.byteLength, writeMs: performance.now() - start });
    const steps = await listCheckpoints(this.runFolder);
    for (const old of steps.slice(0, Math.max(0, steps.length - this.keep))) {
      await Deno.remove(checkpointPath(this.runFolder, old)).then(
        () => this.#pruned.add(old),
        () => {},
      );
    }
  }
}
