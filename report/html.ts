/**
 * The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched) that
 * opens offline, with the comparison table, the plots, and each run's plan as the DSL expression
 * that reproduces it. The dashboard serves the same page, adding its own small script.
 *
 * @module
 */

import { planExpression } from "../dsl/expression.ts";
import type { TextSample } from "../runtime/models/sample_text.ts";
import { FONT, INK, MONO_FONT } from "../visual_style.ts";
import { type Chart, type NamedTimeline, renderSvg } from "./charts.ts";
import { changeLabel } from "./membership.ts";
import { compareColumns, type CompareRow, hasPeakSync, isLanguage } from "./compare_table.ts";
import type { RunData } from "./run_data.ts";
import { messageOf } from "../runtime/errors.ts";
import { contentSecurityPolicy, type SafeHtml, safeHtml, trustedHtml } from "./safe_html.ts";

export { escapeHtml } from "./safe_html.ts";

/** The page's style sheet, from the shared visual style. */
export const REPORT_CSS = `
body{font-family:${FONT};color:${INK.text};background:${INK.background};margin:0 auto;
  max-width:1180px;padding:24px 28px;line-height:1.45}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.meta{color:${INK.muted};font-size:13px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{padding:5px 9px;border-bottom:1px solid ${INK.grid};text-align:right;white-space:nowrap}
th{background:${INK.panel};font-weight:600;white-space:normal;vertical-align:bottom}
td:first-child,th:first-child,td:nth-child(2),th:nth-child(2){text-align:left}
.scroll{overflow-x:auto}
#runs td:nth-child(3),#runs th:nth-child(3){text-align:left}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:18px}
figure{margin:0;background:${INK.background};border:1px solid ${INK.grid};border-radius:6px;
  padding:10px;overflow-x:auto}
figure svg{max-width:100%;height:auto}
figcaption{font-size:13px;color:${INK.muted};margin-bottom:6px}
figure.wide{grid-column:1/-1}
pre{font-family:${MONO_FONT};font-size:12.5px;background:${INK.panel};padding:10px 12px;
  border-radius:6px;overflow-x:auto}
pre.sample{white-space:pre-wrap}
pre.sample mark{background:none;color:${INK.stroke};font-weight:600}
.status-failed{color:#c0392b}.status-running{color:#b7791f}
a{color:${INK.stroke}}
`;

/** Statuses with a style; any other value (a damaged or hostile summary) gets none. */
const STYLED_STATUSES = new Set(["completed", "failed", "running", "stopped"]);

/**
 * The class that colours a row by its status.
 *
 * @param status The status as read from the run folder.
 * @returns `status-<status>` for a known status, else `status-unknown`.
 */
export function statusClass(status: unknown): string {
  return `status-${typeof status === "string" && STYLED_STATUSES.has(status) ? status : "unknown"}`;
}

/**
 * The comparison table as HTML.
 *
 * @param rows The rows.
 * @param target The target accuracy, whose columns appear when given.
 * @returns A `<table>` element.
 */
export function compareHtml(rows: readonly CompareRow[], target: number | null): SafeHtml {
  const columns = compareColumns(target, isLanguage(rows), hasPeakSync(rows)).filter((column) =>
    column.header !== "clock"
  );
  // The phases share one heading, so the table fits beside the page.
  const phase = (header: string) => header.endsWith(" sent/worker");
  const first = columns.findIndex((column) => phase(column.header));
  const phaseCount = columns.filter((c) => phase(c.header)).length;
  const top = columns.flatMap((column, index) => {
    if (phase(column.header)) {
      return index === first
        ? [safeHtml`<th colspan="${phaseCount}">bytes sent per worker</th>`]
        : [];
    }
    return [safeHtml`<th rowspan="2">${column.header}</th>`];
  });
  const phases = columns.filter((column) => phase(column.header)).map((column) =>
    safeHtml`<th>${column.header.replace(" sent/worker", "")}</th>`
  );
  const body = rows.map((row) =>
    safeHtml`<tr class="${statusClass(row.status)}">${
      columns.map((column) => safeHtml`<td>${column.text(row)}</td>`)
    }</tr>\n`
  );
  return safeHtml`<div class="scroll"><table id="compare"><thead><tr>${top}</tr><tr>${phases}</tr></thead><tbody>
${body}</tbody></table></div>`;
}

/**
 * A chart as a figure with its caption and inline SVG.
 *
 * @param chart The chart.
 * @returns The `<figure>` element.
 */
export async function chartFigure(chart: Chart): Promise<SafeHtml> {
  // Vega's SVG renderer escapes the text it draws (run names in legends).
  const svg = trustedHtml(await renderSvg(chart.spec));
  const wide = chart.id === "worker-time" || chart.id === "membership"
    ? safeHtml` class="wide"`
    : "";
  return safeHtml`<figure id="chart-${chart.id}"${wide}><figcaption>${chart.title}</figcaption>
${svg}</figure>`;
}

/**
 * A run's plan and facts: its DSL expression, backend, transport and clock.
 *
 * @param run The run.
 * @returns A `<section>` element.
 */
export function runSection(run: RunData): SafeHtml {
  const summary = run.summary;
  const facts = summary === null
    ? [run.status === "running" ? "still running" : "stopped before writing its summary"]
    : [
      `${summary.status}${summary.error === null ? "" : `: ${summary.error}`}`,
      // A summary written on a full disk holds only the status and the reason.
      ...(summary.versions === undefined ? [] : runFacts(summary)),
    ];
  return safeHtml`<section class="run" id="run-${run.name}"><h3>${run.name}</h3>
<p class="meta">${facts.join(" · ")}</p>
<pre><code>${expressionOf(run)}</code></pre>${sampleBlock(summary?.sample)}</section>`;
}

/** How a run ran, from its summary: transport, clock, backend, wall time and Deno. */
function runFacts(summary: NonNullable<RunData["summary"]>): string[] {
  return [
    `${summary.transport} transport`,
    `${summary.clock} clock`,
    `backend ${summary.backend ?? "unknown"}`,
    `wall time ${(summary.wallTimeMs / 1000).toFixed(1)} s`,
    `Deno ${summary.versions.deno}`,
  ];
}

/** The plan's DSL expression, or why a damaged plan has none (the page still shows the rest). */
function expressionOf(run: RunData): string {
  try {
    return planExpression(run.plan);
  } catch (error) {
    return `plan.json does not describe a valid plan: ${messageOf(error)}`;
  }
}

/** A language model's generated text: the prompt, then the model's continuation, marked. */
function sampleBlock(sample: TextSample | undefined): SafeHtml {
  if (sample === undefined) return safeHtml``;
  return safeHtml`
<p class="meta">Sample from the final averaged model (${sample.tokens} tokens at temperature ${sample.temperature}; the prompt is the opening of the validation text, the continuation is <mark>marked</mark>):</p>
<pre class="sample">${sample.prompt}<mark>${sample.text}</mark></pre>`;
}

/**
 * The membership of elastic runs: how many workers each has live now, every change (from which
 * step, who left, why, who stays, what was seen), and the live workers over steps.
 *
 * @param runs The elastic runs' timelines.
 * @param chart Their chart ({@linkcode membershipChart}).
 * @returns The section's heading, tables and figure.
 */
export async function membershipSection(
  runs: readonly NamedTimeline[],
  chart: Chart,
): Promise<SafeHtml> {
  const now = runs.map(({ name, timeline }) => {
    const since = timeline.changes.at(-1)?.step;
    return safeHtml`<tr><td>${name}</td><td>${timeline.members.length} of ${timeline.workers}</td><td>${
      timeline.members.join(", ")
    }</td><td>${since === undefined ? "start" : `step ${since}`}</td></tr>
`;
  });
  const events = runs.flatMap(({ name, timeline }) =>
    timeline.changes.map((change) =>
      safeHtml`<tr><td>${name}</td><td>${change.step}</td><td>${
        changeLabel(change)
      }</td><td>${change.reason}</td><td>${change.members.join(", ")}</td><td>${
        change.detail ?? ""
      }</td></tr>
`
    )
  );
  const table = events.length === 0
    ? safeHtml`<p class="meta">No worker has left yet.</p>`
    : safeHtml`<div class="scroll"><table id="membership-events"><thead><tr><th>run</th><th>from step</th><th>change</th><th>reason</th><th>live workers</th><th>detail</th></tr></thead><tbody>
${events}</tbody></table></div>`;
  return safeHtml`<h2>Membership</h2>
<p class="meta">Elastic runs: a declared leave takes effect at its step; after a lost worker the
survivors redo the steps from the change on, and the curves draw the redone steps (the abandoned
attempt's bytes stay in the totals).</p>
<div class="scroll"><table id="membership-live"><thead><tr><th>run</th><th>live workers</th><th>members</th><th>since</th></tr></thead><tbody>
${now}</tbody></table></div>
${table}
<div class="charts">
${await chartFigure(chart)}
</div>`;
}

/** What a report page shows. */
export interface ReportPage {
  /** The page title. */
  readonly title: string;
  /** A line under the title (what was compared, when). */
  readonly subtitle: string;
  readonly runs: readonly RunData[];
  readonly rows: readonly CompareRow[];
  readonly charts: readonly Chart[];
  readonly target: number | null;
  /** Elastic runs' membership: their timelines and its chart; absent when no run is elastic. */
  readonly membership?: { readonly runs: readonly NamedTimeline[]; readonly chart: Chart };
  /**
   * The page's one inline script (the dashboard's), exactly as between its tags; the page's
   * Content-Security-Policy allows it alone, by its hash. Reports have none.
   */
  readonly script?: string;
}

/**
 * Builds the whole page. It declares its Content-Security-Policy in a `<meta>`, so a report
 * opened from a file runs no script and fetches nothing even if something slipped through.
 *
 * @param page What it shows.
 * @returns The HTML document.
 */
export async function reportHtml(page: ReportPage): Promise<string> {
  const figures = await Promise.all(page.charts.map(chartFigure));
  const membership = page.membership === undefined
    ? ""
    : safeHtml`${await membershipSection(page.membership.runs, page.membership.chart)}\n`;
  // Made here from constants and a base64 hash: no quote to escape, and the `'` stay readable.
  const policy = await contentSecurityPolicy(page.script);
  const script = page.script === undefined
    ? ""
    : safeHtml`<script>${trustedHtml(page.script)}</script>`;
  const noEvaluation = page.charts.some((chart) => /^(accuracy|test-loss)-/.test(chart.id))
    ? ""
    : safeHtml`\n<p class="meta">No evaluation yet: the test curves appear after the first one.</p>`;
  return String(safeHtml`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${trustedHtml(policy)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title}</title>
<style>${trustedHtml(REPORT_CSS)}</style>${script}
</head><body><main>
<h1>${page.title}</h1>
<p class="meta">${page.subtitle}</p>
<h2>Comparison</h2>
${compareHtml(page.rows, page.target)}
<p class="meta">Bytes are what each worker wrote to its sockets, mean over workers, frame headers
included; training phases are base, outer and compressed. Times are the slowest worker's training
time (or the simulated time on the virtual clock).</p>
<h2>Curves</h2>${noEvaluation}
<div class="charts">
${figures.map((figure) => safeHtml`${figure}\n`)}</div>
${membership}<h2>Runs</h2>
${page.runs.map((run) => safeHtml`${runSection(run)}\n`)}</main></body></html>
`);
}
