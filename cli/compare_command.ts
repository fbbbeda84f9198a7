/**
 * `gossamer compare <run dirs…> [--html report.html] [--csv table.csv] [--target 0.9]`: compares
 * finished (or running) runs in a terminal table, and writes the self-contained HTML report and
 * the CSV table on request.
 *
 * @module
 */

import { buildReport, RunDataError } from "../report/mod.ts";
import { CliInputError } from "./errors.ts";
import { writeFileAtomic } from "./write_file.ts";

/** Options of `gossamer compare`. */
export interface CompareOptions {
  /** Where to write the HTML report. */
  readonly html?: string;
  /** Where to write the CSV table. */
  readonly csv?: string;
  /** The accuracy whose first reaching is timed and counted in bytes. */
  readonly target?: number;
  /** The report's title. */
  readonly title?: string;
  /** Print nothing but errors. */
  readonly quiet?: boolean;
}

/**
 * Runs `gossamer compare`.
 *
 * @param folders Run folders.
 * @param options Report files and target accuracy.
 * @throws {CliInputError} When a folder is not a readable run folder.
 */
export async function compareCommand(
  folders: readonly string[],
  options: CompareOptions = {},
): Promise<void> {
  const report = await buildReport(folders, {
    target: options.target ?? null,
    ...(options.title === undefined ? {} : { title: options.title }),
  }).catch((error) => {
    throw error instanceof RunDataError ? new CliInputError(error.message) : error;
  });
  const written: string[] = [];
  if (options.html !== undefined) {
    await writeFileAtomic(options.html, report.html);
    written.push(`report ${options.html}`);
  }
  if (options.csv !== undefined) {
    await writeFileAtomic(options.csv, report.csv);
    written.push(`table ${options.csv}`);
  }
  if (options.quiet) return;
  console.log(report.text);
  if (written.length > 0) console.log(`\nWrote ${written.join(", ")}`);
}
