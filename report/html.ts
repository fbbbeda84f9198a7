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
import { type Chart, renderSvg } from "./charts.ts";
import { compareColumns, type CompareRow, hasPeakSync, isLanguage } from "./compare_table.ts";
import type { RunData } from "./run_data.ts";

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @param text Any text.
 * @returns The text with `&`, `<`, `>`, `"` and `'` escaped.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeHtml } from "./html.ts";
 *
 * assert.equal(escapeHtml(`<a href="x">&'`), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

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

/**
 * The comparison table as HTML.
 *
 * @param rows The rows.
 * @param target The target accuracy, whose columns appear when given.
 * @returns A `<table>` element.
 */
export function compareHtml(rows: readonly CompareRow[], target: number | null): string {
  const columns = compareColumns(target, isLanguage(rows), hasPeakSync(rows)).filter((column) =>
    column.header !== "clock"
  );
  // The four phases share one heading, so the table fits beside the page.
  const phase = (header: string) => header.endsWith(" sent/worker");
  const first = columns.findIndex((column) => phase(column.header));
  const top = columns.flatMap((column, index) => {
    if (phase(column.header)) {
      return index === first
        ? [
          `<th colspan="${
            columns.filter((c) => phase(c.header)).length
          }">bytes sent per worker</th>`,
        ]
        : [];
    }
    return [`<th rowspan="2">${escapeHtml(column.header)}</th>`];
  }).join("");
  const phases = columns.filter((column) => phase(column.header)).map((column) =>
    `<th>${escapeHtml(column.header.replace(" sent/worker", ""))}</th>`
  ).join("");
  const body = rows.map((row) =>
    `<tr class="status-${row.status}">${
      columns.map((column) => `<td>${escapeHtml(column.text(row))}</td>`).join("")
    }</tr>`
  ).join("\n");
  return `<div class="scroll"><table id="compare"><thead><tr>${top}</tr><tr>${phases}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/**
 * A chart as a figure with its caption and inline SVG.
 *
 * @param chart The chart.
 * @returns The `<figure>` element.
 */
export async function chartFigure(chart: Chart): Promise<string> {
  const wide = chart.id === "worker-time" ? ' class="wide"' : "";
  return `<figure id="chart-${chart.id}"${wide}><figcaption>${
    escapeHtml(chart.title)
  }</figcaption>\n${await renderSvg(chart.spec)}</figure>`;
}

/**
 * A run's plan and facts: its DSL expression, backend, transport and clock.
 *
 * @param run The run.
 * @returns A `<section>` element.
 */
export function runSection(run: RunData): string {
  const summary = run.summary;
  const facts = summary === null ? ["still running"] : [
    `${summary.status}${summary.error === null ? "" : `: ${summary.error}`}`,
    `${summary.transport} transport`,
    `${summary.clock} clock`,
    `backend ${summary.backend ?? "unknown"}`,
    `wall time ${(summary.wallTimeMs / 1000).toFixed(1)} s`,
    `Deno ${summary.versions.deno}`,
  ];
  return `<section class="run" id="run-${escapeHtml(run.name)}"><h3>${
    escapeHtml(run.name)
  }</h3>\n<p class="meta">${escapeHtml(facts.join(" · "))}</p>\n<pre><code>${
    escapeHtml(planExpression(run.plan))
  }</code></pre>${sampleBlock(summary?.sample)}</section>`;
}

/** A language model's generated text: the prompt, then the model's continuation, marked. */
function sampleBlock(sample: TextSample | undefined): string {
  if (sample === undefined) return "";
  return `\n<p class="meta">Sample from the final averaged model (${sample.tokens} tokens at temperature ${sample.temperature}; the prompt is the opening of the validation text, the continuation is <mark>marked</mark>):</p>\n<pre class="sample">${
    escapeHtml(sample.prompt)
  }<mark>${escapeHtml(sample.text)}</mark></pre>`;
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
  /** Extra markup at the end of `<head>` (the dashboard's script). */
  readonly head?: string;
}

/**
 * Builds the whole page.
 *
 * @param page What it shows.
 * @returns The HTML document.
 */
export async function reportHtml(page: ReportPage): Promise<string> {
  const figures = await Promise.all(page.charts.map(chartFigure));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>${REPORT_CSS}</style>${page.head ?? ""}
</head><body><main>
<h1>${escapeHtml(page.title)}</h1>
<p class="meta">${escapeHtml(page.subtitle)}</p>
<h2>Comparison</h2>
${compareHtml(page.rows, page.target)}
<p class="meta">Bytes are what each worker wrote to its sockets, mean over workers, frame headers
included; training phases are base, outer and compressed. Times are the slowest worker's training
time (or the simulated time on the virtual clock).</p>
<h2>Curves</h2>${
    page.charts.some((chart) => /^(accuracy|test-loss)-/.test(chart.id))
      ? ""
      : '\n<p class="meta">No evaluation yet: the test curves appear after the first one.</p>'
  }
<div class="charts">
${figures.join("\n")}
</div>
<h2>Runs</h2>
${page.runs.map(runSection).join("\n")}
</main></body></html>
`;
}
