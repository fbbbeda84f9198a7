/**
 * The run folder: everything a user sees after a run is data written here (`plan.json`,
 * `metrics.jsonl`, `summary.json`, `params.json`). Metrics are appended line by line as they
 * arrive, so a run that fails keeps every line it produced.
 *
 * @module
 */

import { dirname, join, relative, resolve } from "node:path";
import { mapFileRefs } from "../../dsl/file_refs.ts";
import { algorithmKinds } from "../../dsl/explain.ts";
import type { Plan } from "../../dsl/plan.ts";
import type { MetricsLine } from "../metrics.ts";
import { messageOf } from "../errors.ts";

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

/**
 * The plan as a file in `folder` stores it: absolute paths in the same tree as the folder become
 * paths relative to it, so the run folder keeps pointing at the model module and data when the
 * project moves; paths in another tree stay absolute.
 *
 * @param plan The plan being run.
 * @param folder Where its file is written.
 * @returns The plan with relative file references.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { relativeFileRefs } from "./run_folder.ts";
 * import { allReduce, leastSquares, linear, sgd, train } from "../../mod.ts";
 *
 * const plan = train(linear({ dim: 3 })).data(leastSquares({ file: "/p/data/s.json" }))
 *   .workers(4).optimizer(sgd({ lr: 0.1 })).base(allReduce()).compile();
 * const stored = relativeFileRefs(plan, "/p/runs/one");
 * assert.equal(stored.data.kind === "leastSquares" && stored.data.file, "../../data/s.json");
 * ```
 */
export function relativeFileRefs(plan: Plan, folder: string): Plan {
  const base = resolve(folder);
  return mapFileRefs(
    plan,
    (reference) =>
      reference.startsWith("/") && sameTree(base, reference)
        ? relative(base, reference)
        : reference,
  );
}

/**
 * Whether two absolute paths share a top-level folder (`/work/a` and `/work/b` do, `/tmp/a` and
 * `/work/b` do not): a path relative across unrelated trees would break when either moves.
 */
function sameTree(a: string, b: string): boolean {
  const top = (path: string) => path.split("/")[1];
  return top(a) === top(b);
}

/**
 * Writes a file atomically: to a temporary file beside it, then renamed over it, so a reader
 * (or a crash) never sees half of it.
 *
 * @param path The file.
 * @param bytes Its new content.
 */
export async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${crypto.randomUUID()}.tmp`;
  try {
    await Deno.writeFile(temporary, bytes);
    await Deno.rename(temporary, path);
  } catch (error) {
    await Deno.remove(temporary).catch(() => {});
    throw error;
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

/** An open run folder. */
export class RunFolder {
  readonly #metrics: Deno.FsFile;
  readonly #encoder = new TextEncoder();

  private constructor(readonly path: string, metrics: Deno.FsFile) {
    this.#metrics = metrics;
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
    try {
      await Deno.mkdir(path, { recursive: true });
      const portable = relativeFileRefs(plan, path);
      await Deno.writeTextFile(join(path, "plan.json"), JSON.stringify(portable, null, 2) + "\n");
      const metrics = await Deno.open(join(path, "metrics.jsonl"), {
        create: true,
        append: true,
      });
      return new RunFolder(path, metrics);
    } catch (error) {
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
      return new RunFolder(path, metrics);
    } catch (error) {
      throw new Error(`Cannot continue in run folder "${path}": ${messageOf(error)}`);
    }
  }

  /** Appends metrics lines. */
  writeMetrics(lines: readonly MetricsLine[]): void {
    if (lines.length === 0) return;
    const text = lines.map((line) => JSON.stringify(line)).join("\n") + "\n";
    const bytes = this.#encoder.encode(text);
    let offset = 0;
    while (offset < bytes.length) offset += this.#metrics.writeSync(bytes.subarray(offset));
  }

  /** Writes a JSON file in the folder, atomically. */
  async writeJson(name: string, value: unknown): Promise<void> {
    await this.writeBytes(name, new TextEncoder().encode(JSON.stringify(value, null, 2) + "\n"));
  }

  /** Writes a file in the folder atomically: a temporary file, then a rename. */
  async writeBytes(name: string, bytes: Uint8Array): Promise<void> {
    await writeAtomic(join(this.path, name), bytes);
  }

  /** Closes the metrics file. */
  close(): void {
    try {
      this.#metrics.close();
    } catch { /* already closed */ }
  }
}
