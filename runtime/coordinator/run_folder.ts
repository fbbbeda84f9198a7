/**
 * The run folder: everything a user sees after a run is data written here (`plan.json`,
 * `metrics.jsonl`, `summary.json`, `params.json`). Metrics are appended line by line as they
 * arrive, so a run that fails keeps every line it produced.
 *
 * @module
 */

import { join } from "node:path";
import { algorithmKinds } from "../../dsl/explain.ts";
import type { Plan } from "../../dsl/plan.ts";
import type { MetricsLine } from "../metrics.ts";

/** A folder name for a new run: `runs/20261124-061530-gossip-slowMo`. */
export function defaultRunFolder(plan: Plan, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return join("runs", `${stamp}-${algorithmKinds(plan).join("-")}`);
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
    try {
      await Deno.stat(join(path, "metrics.jsonl"));
      throw new Error(`Run folder "${path}" already holds a run: choose another --out`);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    try {
      await Deno.mkdir(path, { recursive: true });
      await Deno.writeTextFile(join(path, "plan.json"), JSON.stringify(plan, null, 2) + "\n");
      const metrics = await Deno.open(join(path, "metrics.jsonl"), {
        create: true,
        append: true,
      });
      return new RunFolder(path, metrics);
    } catch (error) {
      throw new Error(`Cannot create run folder "${path}": ${(error as Error).message}`);
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

  /** Writes a JSON file in the folder. */
  async writeJson(name: string, value: unknown): Promise<void> {
    await Deno.writeTextFile(join(this.path, name), JSON.stringify(value, null, 2) + "\n");
  }

  /** Closes the metrics file. */
  close(): void {
    try {
      this.#metrics.close();
    } catch { /* already closed */ }
  }
}
