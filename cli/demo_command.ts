/**
 * `gossamer demo`: the main job on the embedded data. Trains the demo pipelines in
 * `examples/demo/` (all-reduce SGD, local SGD, gossip on a ring with SlowMo) on real MNIST
 * digits with TCP workers, prints a comparison of accuracy, bytes and time, and writes the
 * comparison report (`report.html`) beside the run folders.
 *
 * @module
 */

import { basename, join } from "node:path";
import { loadPlan } from "../runtime/load_plan.ts";
import { run } from "../runtime/coordinator/run.ts";
import { meanBytesSent, type RunResult } from "../runtime/run_types.ts";
import { exampleFiles } from "./examples_command.ts";
import { formatBytes, table } from "../report/format.ts";
import { buildReport } from "../report/mod.ts";
import { withInterrupt } from "./interrupt.ts";
import { writeFileAtomic } from "./write_file.ts";
import { ProgressBar } from "./progress_bar.ts";

/** The demo pipelines. */
const DEMO = new URL("../examples/demo/", import.meta.url);

/** Options of the demo. */
export interface DemoOptions {
  /** Parent folder of the demo's run folders (default `runs/demo-<time>`). */
  readonly out?: string;
  readonly quiet?: boolean;
}

/** Renders the comparison table of finished runs. */
export function comparisonTable(results: readonly { name: string; result: RunResult }[]): string {
  const reference = results[0] === undefined ? 0 : meanBytesSent(results[0].result.summary);
  return table(
    ["pipeline", "algorithm", "final accuracy", "bytes sent/worker", "vs first", "wall time"],
    results.map(({ name, result }) => {
      const accuracy = result.summary.final?.testAccuracy;
      const bytes = meanBytesSent(result.summary);
      return [
        name,
        `${result.summary.algorithm} ×${result.summary.workers}`,
        accuracy === null || accuracy === undefined ? "-" : `${(100 * accuracy).toFixed(2)}%`,
        formatBytes(bytes),
        reference > 0 ? `${(bytes / reference).toFixed(3)}×` : "-",
        `${(result.summary.wallTimeMs / 1000).toFixed(1)} s`,
      ];
    }),
  );
}

/** Runs `gossamer demo`. */
export async function demoCommand(options: DemoOptions = {}): Promise<void> {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  const parent = options.out ?? join("runs", `demo-${stamp}`);
  const results: { name: string; result: RunResult }[] = [];
  for (const file of await exampleFiles(DEMO)) {
    const name = basename(file, ".ts");
    const plan = await loadPlan(file);
    if (!options.quiet) {
      console.log(`Training ${name}: ${plan.workers} TCP workers, ${plan.steps} steps`);
    }
    const bar = new ProgressBar(!options.quiet);
    try {
      const result = await withInterrupt((signal) =>
        run(plan, {
          out: join(parent, name),
          signal,
          onProgress: (progress) => bar.update(progress),
        })
      );
      results.push({ name, result });
    } finally {
      bar.done();
    }
  }
  console.log(`\n${comparisonTable(results)}`);
  console.log(
    `\nBackend: ${results[0]?.result.summary.backend} (${
      results[0]?.result.summary.backendReason
    })`,
  );
  console.log(
    `Run folders: ${parent}/<pipeline> (plan.json, metrics.jsonl, summary.json, params.json)`,
  );
  const report = await buildReport(results.map(({ result }) => result.folder), {
    title: "gossamer demo: all-reduce SGD, local SGD and gossip with SlowMo on MNIST",
  });
  const path = join(parent, "report.html");
  await writeFileAtomic(path, report.html);
  console.log(`Report: ${path} (open it in a browser; it needs no network)`);
}
