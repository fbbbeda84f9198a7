/**
 * `gossamer examples`: compiles every example pipeline and compares what each would send.
 *
 * @module
 */

import { basename, join } from "node:path";
import { algorithmKinds, explainPlan } from "../dsl/explain.ts";
import { loadPlan } from "../runtime/load_plan.ts";
import { totalBytes } from "../dsl/traffic.ts";
import { unsupportedNodes } from "../runtime/support.ts";
import { formatBytes, table } from "../report/format.ts";

/** The examples folder. */
const EXAMPLES = new URL("../examples/", import.meta.url);

/** Files of an example folder that are not pipelines: an experiment's settings and checks. */
const NOT_PIPELINES = ["experiment.json", "expect.ts"];

/**
 * Lists the example inputs: every `.ts` pipeline module and `.json` plan in a folder (not an
 * experiment's `experiment.json` or `expect.ts`).
 *
 * @param folder A folder URL (default: `examples/`).
 * @returns Paths, sorted.
 */
export async function exampleFiles(folder: URL = EXAMPLES): Promise<string[]> {
  const path = decodeURIComponent(folder.pathname);
  const files: string[] = [];
  for await (const entry of Deno.readDir(path)) {
    if (!entry.isFile || NOT_PIPELINES.includes(entry.name)) continue;
    if (/\.(ts|json)$/.test(entry.name)) files.push(join(path, entry.name));
  }
  return files.sort();
}

/** Runs `gossamer examples`. */
export async function examplesCommand(): Promise<void> {
  const rows: string[][] = [];
  let runnable = 0;
  for (const file of await exampleFiles()) {
    const plan = await loadPlan(file);
    const explanation = explainPlan(plan);
    const bytes = explanation.bytesPerStep;
    const total = bytes === null ? null : totalBytes(bytes);
    const reference = explanation.allReduceBytesPerStep;
    const algorithm = algorithmKinds(plan).join(" + ");
    const ready = unsupportedNodes(plan).length === 0;
    if (ready) runnable++;
    rows.push([
      basename(file),
      `${algorithm} ×${plan.workers}`,
      explanation.parameters?.toLocaleString("en-US") ?? "?",
      total === null ? "?" : formatBytes(total),
      total === null || !reference ? "-" : `${(total / reference).toFixed(3)}×`,
      explanation.syncPeriod === null ? "never exact" : String(explanation.syncPeriod),
      ready ? "yes" : "not yet",
    ]);
  }
  console.log("Example pipelines, compiled and validated\n");
  console.log(
    table(
      [
        "example",
        "algorithm",
        "parameters",
        "bytes/worker/step",
        "vs all-reduce",
        "sync every",
        "runs",
      ],
      rows,
    ),
  );
  console.log(
    `\n${rows.length} plans valid; ${runnable} runnable by this version's runtime. ` +
      "Explain one with: deno task gossamer plan examples/<file>",
  );
}
