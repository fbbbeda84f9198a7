/**
 * A comparison of runs in every form: the terminal table, CSV, and the HTML page with plots.
 *
 * @module
 */

import { membershipChart, type NamedTimeline, renderSvg, reportCharts } from "./charts.ts";
import { compareCsv, type CompareRow, compareRow, compareText } from "./compare_table.ts";
import { reportHtml } from "./html.ts";
import { membershipTimeline } from "./membership.ts";
import { readRun, type RunData } from "./run_data.ts";
import { runSeries } from "./series.ts";

/** Options of {@linkcode buildReport}. */
export interface ReportOptions {
  /** The accuracy whose first reaching is timed and counted in bytes. */
  readonly target?: number | null;
  /** The page title (default: "gossamer report"). */
  readonly title?: string;
  /**
   * An inline script for the page (the dashboard's live updates), allowed alone by the page's
   * Content-Security-Policy; reports written to files have none.
   */
  readonly script?: string;
}

/** A comparison of runs, in every form. */
export interface Report {
  /** One row per run. */
  readonly rows: readonly CompareRow[];
  /** The terminal table. */
  readonly text: string;
  /** The CSV table. */
  readonly csv: string;
  /** The self-contained HTML page. */
  readonly html: string;
}

/**
 * Reads run folders and builds their comparison.
 *
 * @param folders Run folders, in the order they are listed and coloured.
 * @param options Target accuracy and title.
 * @returns The table in three forms and the HTML page.
 * @throws {RunDataError} When a folder is not a readable run folder.
 */
export async function buildReport(
  folders: readonly string[],
  options: ReportOptions = {},
): Promise<Report> {
  const runs = await Promise.all(folders.map(readRun));
  return await reportOf(runs, options);
}

/**
 * Builds the comparison of runs already read.
 *
 * @param runs The runs.
 * @param options Target accuracy and title.
 * @returns The table in three forms and the HTML page.
 */
export async function reportOf(
  runs: readonly RunData[],
  options: ReportOptions = {},
): Promise<Report> {
  const target = options.target ?? null;
  const rows = runs.map((run) => compareRow(run, target));
  const charts = reportCharts(runs.map((run) => ({ name: run.name, series: runSeries(run) })));
  const names = runs.map((run) => run.name).join(", ");
  const elastic = elasticTimelines(runs);
  const html = await reportHtml({
    title: options.title ?? "gossamer report",
    subtitle: `${runs.length} run${runs.length === 1 ? "" : "s"}: ${names} · generated ${
      new Date().toISOString().slice(0, 19).replace("T", " ")
    } UTC`,
    runs,
    rows,
    charts,
    target,
    ...(elastic.length === 0 ? {} : {
      membership: { runs: elastic, chart: membershipChart(runs.map((run) => run.name), elastic) },
    }),
    ...(options.script === undefined ? {} : { script: options.script }),
  });
  return {
    rows,
    text: compareText(rows, target),
    csv: compareCsv(rows, target),
    html,
  };
}

/**
 * The membership timelines of the elastic runs (an elastic plan, or membership lines); other
 * runs have none, so a report of them alone shows no membership.
 */
function elasticTimelines(runs: readonly RunData[]): NamedTimeline[] {
  return runs.flatMap((run) => {
    const changes = run.membership ?? [];
    if (changes.length === 0 && (run.plan.elastic ?? null) === null) return [];
    const lastStep = run.steps.reduce((last, line) => Math.max(last, line.step), 0);
    return [{ name: run.name, timeline: membershipTimeline(run.plan.workers, changes, lastStep) }];
  });
}

/** A chart of the report, rendered: for a notebook cell or a page of one's own. */
export interface SvgChart {
  /** Stable identifier, e.g. `"accuracy-bytes"`. */
  readonly id: string;
  /** Caption. */
  readonly title: string;
  /** The SVG document. */
  readonly svg: string;
}

/**
 * The report's charts of runs already read (by {@linkcode readRun}), rendered to SVG: the curves
 * of {@linkcode buildReport}'s page (accuracy or test loss against steps, bytes and time), without
 * the page around them.
 *
 * @param runs The runs, in the order they are coloured.
 * @returns The charts, in reading order.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allReduce, leastSquares, linear, run, sgd, train } from "../mod.ts";
 * import { readRun, renderCharts } from "./mod.ts";
 *
 * const plan = train(linear({ dim: 3 }))
 *   .data(leastSquares({ file: new URL("../examples/data/least_squares_4.json", import.meta.url) }))
 *   .workers(4).optimizer(sgd({ lr: 0.05 })).base(allReduce()).steps(10).evalEvery(5).compile();
 * const out = await Deno.makeTempDir();
 * const result = await run(plan, { transport: "memory", out: `${out}/run` });
 * const charts = await renderCharts([await readRun(result.folder)]);
 * assert.ok(charts.length > 0 && charts.every((chart) => chart.svg.startsWith("<svg")));
 * await Deno.remove(out, { recursive: true });
 * ```
 */
export async function renderCharts(runs: readonly RunData[]): Promise<SvgChart[]> {
  const charts = reportCharts(runs.map((run) => ({ name: run.name, series: runSeries(run) })));
  return await Promise.all(
    charts.map(async ({ id, title, spec }) => ({ id, title, svg: await renderSvg(spec) })),
  );
}
