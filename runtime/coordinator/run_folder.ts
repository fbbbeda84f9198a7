/**
 * The run folder: everything a user sees after a run is data written here (`plan.json`,
 * `metrics.jsonl`, `summary.json`, `params.json`). Metrics are appended line by line as they
 * arrive, so a run that fails keeps every line it produced.
 *
 * @module
 */

import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { mapFileRefs } from "../../dsl/file_refs.ts";
import { algorithmKinds } from "../../dsl/explain.ts";
import type { Plan } from "../../dsl/plan.ts";
import type { MetricsLine } from "../metrics.ts";
import { messageOf } from "../errors.ts";
import { diskWriteError } from "./disk_full.ts";

/**
 * Creates a new, empty folder for a run under a default name, adding `-2`, `-3`, … when a run
 * started in the same second took the name: the leaf is created exclusively, so two runs never
 * share a folder.
 *
 * @param path The default name (see {@linkcode defaultRunFolder}).
 * @returns The folder created.
 */
export async function claimRunFolder(path: string): Promise<string> {
  await Deno.mkdir(dirname(path), { recursive: true });
  for (let attempt = 1;; attempt++) {
    const candidate = attempt === 1 ? path : `${path}-${attempt}`;
    try {
      await Deno.mkdir(candidate);
      return candidate;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
  }
}

/** A folder name for a new run: `runs/20261124-061530-gossip-slowMo`. */
export function defaultRunFolder(plan: Plan, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return join("runs", `${stamp}-${algorithmKinds(plan).join("-")}`);
}

/** The files that mark a project's root folder, as Deno and git find theirs. */
export const PROJECT_MARKERS: readonly string[] = [
  ".git",
  "deno.json",
  "deno.jsonc",
  "package.json",
];

/**
 * The project a folder lies in: the nearest folder at or above it that holds `.git`,
 * `deno.json`, `deno.jsonc` or `package.json`, or the folder itself when none does.
 *
 * @param folder A folder (it need not exist yet).
 * @returns The project's root, absolute.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "./run_folder.ts";
 *
 * const project = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${project}/deno.json`, "{}");
 * assert.equal(projectRoot(`${project}/runs/one`), project);
 * await Deno.remove(project, { recursive: true });
 * ```
 */
export function projectRoot(folder: string): string {
  const start = resolve(folder);
  for (let current = start;; current = dirname(current)) {
    if (PROJECT_MARKERS.some((name) => existsSync(join(current, name)))) return current;
    if (dirname(current) === current) return start;
  }
}

/** Whether a path exists (unreadable counts as absent). */
function existsSync(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether `path` is `folder` or lies below it (both absolute). */
function isInside(folder: string, path: string): boolean {
  const rest = relative(folder, path);
  return rest === "" || (rest !== ".." && !rest.startsWith("../") && !isAbsolute(rest));
}

/**
 * The plan as a file in `folder` stores it. The rule for every plan file gossamer writes (a run
 * folder's `plan.json`, a printed or embedded plan): a file the plan names is stored relative to
 * `folder` when it lies inside the project (by default {@linkcode projectRoot} of `folder`), so
 * the project and its run folders can move or be copied together; any other file keeps its
 * absolute path, so a run folder outside the project (in a temporary folder, say) can move on its
 * own. Nothing depends on where the project itself lies: a project and a run folder outside it
 * that happen to share a parent (both in `/tmp`, both in a home folder) never get a path that
 * climbs out of the project. URLs and references that are already relative stay as they are.
 *
 * @param plan The plan being run.
 * @param folder Where its file is written.
 * @param root The project's root folder (default: {@linkcode projectRoot} of `folder`).
 * @returns The plan with the project's file references relative to `folder`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { relativeFileRefs } from "./run_folder.ts";
 * import { allReduce, leastSquares, linear, sgd, train } from "../../mod.ts";
 *
 * const plan = (file: string) =>
 *   train(linear({ dim: 3 })).data(leastSquares({ file })).workers(4)
 *     .optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
 * const file = (stored: ReturnType<typeof plan>) =>
 *   stored.data.kind === "leastSquares" && stored.data.file;
 * // Inside the project /p: relative to the run folder.
 * assert.equal(file(relativeFileRefs(plan("/p/data/s.json"), "/p/runs/one", "/p")), "../../data/s.json");
 * // Outside it: absolute.
 * assert.equal(file(relativeFileRefs(plan("/q/data/s.json"), "/p/runs/one", "/p")), "/q/data/s.json");
 * ```
 */
export function relativeFileRefs(
  plan: Plan,
  folder: string,
  root: string = projectRoot(folder),
): Plan {
  const base = resolve(folder);
  const project = resolve(root);
  return mapFileRefs(
    plan,
    (reference) =>
      isAbsolute(reference) && isInside(project, reference) ? relative(base, reference) : reference,
  );
}

/**
 * The two ways a run folder's files are written, in one place: whole files (every atomic write:
 * plan, summary, parameters, checkpoints) and appends to the open `metrics.jsonl`. Tests replace
 * them to make a write fail as on a full disk, without a full disk.
 */
export const runFolderWrites: {
  /** Writes a whole file (the temporary file of {@linkcode writeAtomic}). */
  writeFile(path: string, bytes: Uint8Array): Promise<void>;
  /** Appends to the open file at `path`; returns the bytes written (maybe fewer than given). */
  append(path: string, file: Deno.FsFile, bytes: Uint8Array): number;
} = {
  writeFile: (path, bytes) => Deno.writeFile(path, bytes),
  append: (_path, file, bytes) => file.writeSync(bytes),
};

/**
 * Writes a file atomically: to a temporary file beside it, then renamed over it, so a reader
 * (or a crash) never sees half of it.
 *
 * @param path The file.
 * @param bytes Its new content.
 * @throws {DiskWriteError} Naming the file when the disk is full, read-only or failing.
 */
export async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await runFolderWrites.writeFile(temporary, bytes);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw diskWriteError(error, path);
  }
}

/**
 * Removes what an atomic write left behind when its process was killed between writing and
 * renaming (`*.tmp` files of {@linkcode writeAtomic}), so no temporary file outlives a crash.
 */
async function removeTemporaries(folder: string): Promise<void> {
  try {
    for await (const entry of Deno.readDir(folder)) {
      if (entry.isFile && entry.name.endsWith(".tmp")) {
        await Deno.remove(join(folder, entry.name)).catch(() => {});
      }
    }
  } catch { /* no such folder: nothing to clean */ }
}

/** The lock file of a run folder being written (see {@linkcode lockRunFolder}). */
export const LOCK_FILE = "gossamer.lock";

/** Who holds a run folder's lock: what its lock file says. */
interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

/** This machine's name, or `""` when it cannot be read. */
function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "";
  }
}

/**
 * Whether a lock's owner may still be writing: a process on another host, or one whose state
 * this system does not show, is assumed alive; on Linux a pid without `/proc/<pid>` is dead.
 */
function ownerAlive(owner: LockOwner): boolean {
  if (owner.host !== hostName() || Deno.build.os !== "linux") return true;
  if (owner.pid === Deno.pid) return true;
  try {
    Deno.statSync(`/proc/${owner.pid}`);
    return true;
  } catch {
    return false;
  }
}

/** A held run folder lock. */
export interface RunFolderLock {
  /** Removes the lock file (once; later calls do nothing). */
  release(): void;
}

/**
 * Takes a run folder for this process: creates its lock file exclusively, holding this
 * process's id, host and start time, so a second run or resume cannot write the same folder at
 * the same time. A lock left by a process that died (its pid is gone on this host) is stale and
 * taken over.
 *
 * @param folder The run folder (it must exist).
 * @returns The lock, to release when the run has written its last file.
 * @throws {Error} Naming the process that holds the folder.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lockRunFolder } from "./run_folder.ts";
 *
 * const folder = await Deno.makeTempDir();
 * const lock = await lockRunFolder(folder);
 * await assert.rejects(lockRunFolder(folder), /is being written by process/);
 * lock.release();
 * (await lockRunFolder(folder)).release();
 * await Deno.remove(folder);
 * ```
 */
export async function lockRunFolder(folder: string): Promise<RunFolderLock> {
  const path = join(folder, LOCK_FILE);
  const owner: LockOwner = { pid: Deno.pid, host: hostName(), since: new Date().toISOString() };
  for (let attempt = 0;; attempt++) {
    try {
      await Deno.writeTextFile(path, JSON.stringify(owner) + "\n", { createNew: true });
      let held = true;
      return {
        release() {
          if (!held) return;
          held = false;
          try {
            Deno.removeSync(path);
          } catch { /* already gone */ }
        },
      };
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists) || attempt > 0) throw error;
    }
    const holder = await readOwner(path);
    if (holder !== null && ownerAlive(holder)) {
      throw new Error(
        `Run folder "${folder}" is being written by process ${holder.pid}${
          holder.host === "" ? "" : ` on ${holder.host}`
        } (since ${holder.since}): wait for that run to end or stop it; if no such process runs, remove ${path}`,
      );
    }
    // Stale (its process died) or unreadable (cut short by a crash): take it over.
    await Deno.remove(path).catch(() => {});
  }
}

/**
 * Whether a run folder is being written now: its lock file names a process that may be alive
 * (see {@linkcode lockRunFolder}). A folder without a summary and without a live writer holds a
 * run that stopped without finishing (killed, or its disk filled), not one still running.
 *
 * @param folder The run folder.
 * @returns Whether a live process holds its lock.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isBeingWritten, lockRunFolder } from "./run_folder.ts";
 *
 * const folder = await Deno.makeTempDir();
 * assert.equal(await isBeingWritten(folder), false);
 * const lock = await lockRunFolder(folder);
 * assert.equal(await isBeingWritten(folder), true);
 * lock.release();
 * assert.equal(await isBeingWritten(folder), false);
 * await Deno.remove(folder);
 * ```
 */
export async function isBeingWritten(folder: string): Promise<boolean> {
  const owner = await readOwner(join(folder, LOCK_FILE));
  return owner !== null && ownerAlive(owner);
}

/** What a lock file says, or `null` when it does not say it in the expected form. */
async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(path));
    if (!Number.isSafeInteger(parsed?.pid) || typeof parsed.host !== "string") return null;
    return { pid: parsed.pid, host: parsed.host, since: String(parsed.since).slice(0, 40) };
  } catch {
    return null;
  }
}

/** An open run folder. */
export class RunFolder {
  readonly #metrics: Deno.FsFile;
  readonly #encoder = new TextEncoder();
  readonly #lock: RunFolderLock;

  private constructor(readonly path: string, metrics: Deno.FsFile, lock: RunFolderLock) {
    this.#metrics = metrics;
    this.#lock = lock;
  }

  /**
   * Creates the folder (refusing one that already holds a run) and writes `plan.json`.
   *
   * @param path The folder.
   * @param plan The plan that will run.
   * @returns The open folder.
   * @throws {Error} When the folder already holds a run or cannot be created.
   */
  static async create(path: string, plan: Plan): Promise<RunFolder> {
    if (path.trim() === "") throw new Error("The run folder's path is empty: give --out a folder");
    // A run writes only into a new or empty folder: nothing already there is ever overwritten.
    let entries: string[] = [];
    try {
      entries = (await Array.fromAsync(Deno.readDir(path))).map((entry) => entry.name);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw new Error(`Cannot use "${path}" as a run folder: ${messageOf(error)}`);
      }
    }
    if (entries.length > 0) {
      const what = entries.includes("metrics.jsonl") ? "already holds a run" : "is not empty";
      throw new Error(
        `Run folder "${path}" ${what}: choose another --out (a run never writes into a folder that has files)`,
      );
    }
    let lock: RunFolderLock | null = null;
    try {
      await Deno.mkdir(path, { recursive: true });
      lock = await lockRunFolder(path);
      const portable = relativeFileRefs(plan, path);
      await Deno.writeTextFile(join(path, "plan.json"), JSON.stringify(portable, null, 2) + "\n");
      const metrics = await Deno.open(join(path, "metrics.jsonl"), {
        create: true,
        append: true,
      });
      return new RunFolder(path, metrics, lock);
    } catch (error) {
      lock?.release();
      if (messageOf(error).includes("is being written by process")) throw error;
      throw new Error(`Cannot create run folder "${path}": ${messageOf(error)}`);
    }
  }

  /**
   * Opens a run folder to continue a run from a checkpoint: the metrics lines up to the
   * checkpoint are kept (the later ones belong to the timeline being replaced), and `plan.json`
   * is written again (the steps may have changed). Into the checkpoint's own folder, the kept
   * lines replace `metrics.jsonl` atomically; into another folder, that folder must be new.
   *
   * @param path The folder to continue in.
   * @param plan The plan that continues.
   * @param kept The metrics lines up to the checkpoint.
   * @param inPlace Whether `path` is the checkpoint's own run folder.
   * @returns The open folder.
   * @throws {Error} When a new folder already holds a run, or the folder cannot be written.
   */
  static async resume(
    path: string,
    plan: Plan,
    kept: readonly MetricsLine[],
    inPlace: boolean,
  ): Promise<RunFolder> {
    if (!inPlace) {
      const folder = await RunFolder.create(path, plan);
      folder.writeMetrics(kept);
      return folder;
    }
    // Another run or resume writing this folder keeps it: nothing here is touched.
    const lock = await lockRunFolder(path).catch((error) => {
      if (messageOf(error).includes("is being written by process")) throw error;
      throw new Error(`Cannot continue in run folder "${path}": ${messageOf(error)}`);
    });
    try {
      await removeTemporaries(path);
      await removeTemporaries(join(path, "checkpoints"));
      const text = kept.map((line) => JSON.stringify(line) + "\n").join("");
      await writeAtomic(join(path, "metrics.jsonl"), new TextEncoder().encode(text));
      const portable = relativeFileRefs(plan, path);
      await writeAtomic(
        join(path, "plan.json"),
        new TextEncoder().encode(JSON.stringify(portable, null, 2) + "\n"),
      );
      const metrics = await Deno.open(join(path, "metrics.jsonl"), { append: true });
      return new RunFolder(path, metrics, lock);
    } catch (error) {
      lock.release();
      throw new Error(`Cannot continue in run folder "${path}": ${messageOf(error)}`);
    }
  }

  /**
   * Appends metrics lines.
   *
   * @param lines The lines.
   * @throws {DiskWriteError} Naming `metrics.jsonl` when the disk is full, read-only or failing.
   */
  writeMetrics(lines: readonly MetricsLine[]): void {
    if (lines.length === 0) return;
    const text = lines.map((line) => JSON.stringify(line)).join("\n") + "\n";
    const bytes = this.#encoder.encode(text);
    const path = join(this.path, "metrics.jsonl");
    let offset = 0;
    try {
      while (offset < bytes.length) {
        offset += runFolderWrites.append(path, this.#metrics, bytes.subarray(offset));
      }
    } catch (error) {
      throw diskWriteError(error, path);
    }
  }

  /** Writes a JSON file in the folder, atomically. */
  async writeJson(name: string, value: unknown): Promise<void> {
    await this.writeBytes(name, new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n"));
  }

  /** Writes a file in the folder atomically: a temporary file, then a rename. */
  async writeBytes(name: string, bytes: Uint8Array): Promise<void> {
    await writeAtomic(join(this.path, name), bytes);
  }

  /** Closes the metrics file and releases the folder's lock. */
  close(): void {
    try {
      this.#metrics.close();
    } catch { /* already closed */ }
    this.#lock.release();
  }
}
