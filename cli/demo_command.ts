/**
 * `gossamer demo`: the main job on the embedded data. Trains the demo pipelines in
 * `examples/demo/` (all-reduce SGD, local SGD, gossip on a ring with SlowMo) on real MNIST
 * digits with TCP workers, prints a comparison of accuracy, bytes and time, and writes the
 * comparison report (`report.html`) beside the run folders.
 *
 * `gossamer demo --lm` does the same for the language-model pipelines in `examples/demo_lm/`
 * (a byte-level transformer on the embedded Moby-Dick text, all-reduce AdamW against local
 * AdamW), comparing validation bits per byte instead of accuracy.
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

/** A demo: its pipelines and its report's title. */
interface DemoSuite {
  readonly folder: URL;
  readonly title: string;
  /** The run folders' parent's name prefix. */
  readonly prefix: string;
}

/** The MNIST demo and the language-model demo. */
const SUITES: { readonly mnist: DemoSuite; readonly lm: DemoSuite } = {
  mnist: {
    folder: new URL("../examples/demo/", import.meta.url),
    title: "gossamer demo: all-reduce SGD, local SGD and gossip with SlowMo on MNIST",
    prefix: "demo",
  },
  lm: {
    folder: new URL("../examples/demo_lm/", import.meta.url),
    title:
      "gossamer language-model demo: a byte-level transformer on Moby-Dick, all-reduce AdamW against local AdamW",
    prefix: "demo-lm",
  },
};

/** Options of the demo. */
export interface DemoOptions {
  /** Parent folder of the demo's run folders (default `runs/demo-<time>`). */
  readonly out?: string;
  readonly quiet?: boolean;
  /** Run the language-model demo instead of the MNIST one. */
  readonly lm?: boolean;
}

/**
 * Renders the comparison table of finished runs: final accuracy, or for language models the
 * final validation bits per token (bits per byte under the byte tokenizer).
 */
export function comparisonTable(results: readonly { name: string; result: RunResult }[]): string {
  const reference = results[0] === undefined ? 0 : meanBytesSent(results[0].result.summary);
  const language = results.some(({ result }) => result.summary.final?.bitsPerToken !== undefined);
  return table(
    [
      "pipeline",
      "algorithm",
      language ? "bits per byte" : "final accuracy",
      "bytes sent/worker",
      "vs first",
      "wall time",
    ],
    results.map(({ name, result }) => {
      const accuracy = result.summary.final?.testAccuracy;
      const bits = result.summary.final?.bitsPerToken;
      const bytes = meanBytesSent(result.summary);
      return [
        name,
        `${result.summary.algorithm} ×${result.summary.workers}`,
        language
          ? bits?.toFixed(3) ?? "-"
          : accuracy === null || accuracy === undefined
          ? "-"
          : `${(100 * accuracy).toFixed(2)}%`,
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
  const suite = options.lm ? SUITES.lm : SUITES.mnist;
  const parent = options.out ?? join("runs", `${suite.prefix}-${stamp}`);
  const results: { name: string; result: RunResult }[] = [];
  for (const file of await exampleFiles(suite.folder)) {
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
          limitThreadPermissions: true,
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
    `Run folders: ${parent}/<pipeline> (plan.json, metrics.jsonl, summary.json, params.json, model.safetensors)`,
  );
  for (const { name, result } of results) {
    const sample = result.summary.sample;
    if (sample !== undefined) console.log(`\nSample from ${name}:\n${sample.prompt}${sample.text}`);
  }
  const report = await buildReport(results.map(({ result }) => result.folder), {
    title: suite.title,
  });
  const path = join(parent, "report.html");
  await writeFileAtomic(path, report.html);
  console.log(`Report: ${path} (open it in a browser; it needs no network)`);
}
