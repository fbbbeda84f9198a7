/**
 * The report's plots, as Vega-Lite specifications rendered to SVG without a browser (Vega's own
 * headless renderer), in the style of `visual_style.ts`: test accuracy and training loss against
 * steps, bytes sent per worker and time; consensus distance for decentralized runs; and where
 * each worker's time went.
 *
 * @module
 */

import * as vega from "../deps/vega.ts";
import * as vegaLite from "../deps/vega_lite.ts";
import { FONT, INK, SERIES_COLORS } from "../visual_style.ts";
import { changeLabel, type MembershipTimeline } from "./membership.ts";
import type { RunSeries } from "./series.ts";

/** A run's name and curves, in the order it is drawn. */
export interface NamedSeries {
  readonly name: string;
  readonly series: RunSeries;
}

/** A plot: what it shows, and its Vega-Lite specification. */
export interface Chart {
  /** Stable identifier, e.g. `"accuracy-bytes"` (file names, element ids). */
  readonly id: string;
  /** Caption. */
  readonly title: string;
  /** The Vega-Lite specification, data included. */
  readonly spec: vegaLite.TopLevelSpec;
}

/**
 * The unit of the byte axes: the largest binary unit in which the biggest value is at least 1,
 * so a tiny run's axis reads 3.9 KiB rather than 0.0037 MiB.
 */
function byteUnit(maxBytes: number): { name: string; size: number } {
  const units = [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const;
  const unit = units.find(([, size]) => maxBytes >= size);
  return unit === undefined ? { name: "bytes", size: 1 } : { name: unit[0], size: unit[1] };
}

/** At most this many points per run in a line: enough for the eye, small enough for the file. */
const MAX_POINTS = 400;

/** Every `k`-th element, always keeping the last, so at most `max` remain. */
function thin<T>(values: readonly T[], max = MAX_POINTS): T[] {
  if (values.length <= max) return [...values];
  const stride = Math.ceil(values.length / max);
  const kept = values.filter((_, index) => index % stride === 0);
  if (kept.at(-1) !== values.at(-1)) kept.push(values.at(-1)!);
  return kept;
}

/** The Vega-Lite config every chart shares: fonts, ink, grid, and the series colours. */
const CONFIG: vegaLite.Config = {
  font: FONT,
  background: INK.background,
  view: { stroke: INK.grid },
  axis: {
    labelColor: INK.muted,
    titleColor: INK.text,
    gridColor: INK.grid,
    domainColor: INK.stroke,
    tickColor: INK.stroke,
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 500,
  },
  legend: {
    labelColor: INK.text,
    titleColor: INK.text,
    labelFontSize: 11,
    titleFontSize: 12,
    labelLimit: 260,
  },
  title: { color: INK.text, fontSize: 13, fontWeight: 600, anchor: "start" },
  line: { strokeWidth: 2 },
  point: { size: 28, filled: true },
};

/**
 * The colour scale of a chart: each run keeps the colour of its place among all runs, so a run
 * looks the same in every chart, and the legend lists only the runs the chart draws.
 */
function colorScale(names: readonly string[], values: readonly Record<string, unknown>[]) {
  const drawn = new Set(values.map((value) => value.run));
  const present = names.filter((name) => drawn.has(name));
  return {
    domain: present,
    range: present.map((name) => SERIES_COLORS[names.indexOf(name) % SERIES_COLORS.length]!),
  };
}

/** The three x axes: field, title. */
function xAxes(virtual: boolean, bytes: string) {
  return [
    { key: "step", field: "step", title: "step" },
    { key: "bytes", field: "bytes", title: `training bytes sent per worker (${bytes})` },
    {
      key: "time",
      field: "seconds",
      title: virtual ? "simulated time (s)" : "training time (s)",
    },
  ] as const;
}

/** A line chart of `y` against each of the three x axes. */
function againstAxes(
  metric: {
    id: string;
    title: string;
    field: string;
    format?: string;
    points: boolean;
    log?: boolean;
    /** The y axis title, when shorter than the caption's. */
    axisTitle?: string;
  },
  values: Record<string, unknown>[],
  names: readonly string[],
  axes: { virtual: boolean; bytes: string },
): Chart[] {
  return xAxes(axes.virtual, axes.bytes).map((x) => ({
    id: `${metric.id}-${x.key}`,
    title: `${metric.title} against ${x.title.replace(/ \(.*\)$/, "")}`,
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      width: 290,
      height: 180,
      config: CONFIG,
      data: { values },
      mark: { type: "line", point: metric.points, interpolate: "linear" },
      encoding: {
        x: { field: x.field, type: "quantitative", title: x.title },
        y: {
          field: metric.field,
          type: "quantitative",
          title: metric.axisTitle ?? metric.title,
          scale: metric.log ? { type: "log" } : { zero: false },
          ...(metric.format === undefined ? {} : { axis: { format: metric.format } }),
        },
        color: {
          field: "run",
          type: "nominal",
          title: null,
          scale: colorScale(names, values),
          legend: { orient: "bottom", direction: "horizontal", columns: 2 },
        },
      },
    },
  }));
}

/**
 * The report's charts for a set of runs. Accuracy charts become test-loss charts when no run
 * has an accuracy (regression), and test bits-per-token charts for language models; the consensus chart appears when some run reports consensus
 * distances; charts with nothing to draw yet (a run before its first evaluation) are left out.
 *
 * @param runs The runs' names and curves, in drawing order.
 * @returns The charts, in reading order.
 */
export function reportCharts(runs: readonly NamedSeries[]): Chart[] {
  const names = runs.map((run) => run.name);
  const virtual = runs.length > 0 && runs.every((run) => run.series.virtual);
  const unit = byteUnit(Math.max(0, ...runs.map((run) => run.series.steps.at(-1)?.bytes ?? 0)));
  const axes = { virtual, bytes: unit.name };
  const place = (name: string, point: { step: number; bytes: number; timeMs: number }) => ({
    run: name,
    step: point.step,
    bytes: point.bytes / unit.size,
    seconds: point.timeMs / 1000,
  });
  const evals = runs.flatMap(({ name, series }) =>
    series.evals.map((point) => ({
      ...place(name, point),
      accuracy: point.accuracy,
      testLoss: point.testLoss,
      bitsPerToken: point.bitsPerToken,
      consensus: point.consensus,
    }))
  );
  // Language models: bits per token says more than next-token accuracy.
  const language = evals.length > 0 && evals.every((point) => point.bitsPerToken !== null);
  const classification = !language && evals.some((point) => point.accuracy !== null);
  const window = Math.max(1, ...runs.map((run) => run.series.lossWindow));
  const losses = runs.flatMap(({ name, series }) =>
    thin(series.steps).map((point) => ({ ...place(name, point), loss: point.loss }))
  );
  const charts = [
    ...againstAxes(
      language
        ? {
          id: "bits-per-token",
          title: "test bits per token",
          field: "bitsPerToken",
          points: true,
        }
        : classification
        ? { id: "accuracy", title: "test accuracy", field: "accuracy", format: ".1%", points: true }
        : { id: "test-loss", title: "test loss", field: "testLoss", points: true },
      evals.filter((point) => !classification || point.accuracy !== null),
      names,
      axes,
    ),
    ...againstAxes(
      {
        id: "loss",
        title: window > 1 ? `training loss (mean of ${window} steps)` : "training loss",
        field: "loss",
        axisTitle: "training loss",
        points: false,
        // Losses fall by orders of magnitude; a log axis keeps the late differences visible.
        log: losses.length > 0 && losses.every((point) => point.loss > 0),
      },
      losses,
      names,
      axes,
    ),
  ];
  const consensus = evals.filter((point) => point.consensus !== null);
  if (consensus.length > 0) {
    charts.push(
      againstAxes(
        { id: "consensus", title: "consensus distance", field: "consensus", points: true },
        consensus,
        names,
        axes,
      )[0]!,
    );
  }
  charts.push(workerTimeChart(runs));
  // A run that has not evaluated yet (or not finished a step) has nothing to draw there.
  return charts.filter((chart) => (chart.spec.data as { values: unknown[] }).values.length > 0);
}

/**
 * Where each worker's time went, one stacked bar per worker (per run; runs of more than 16
 * workers show the mean over workers, which stays readable at any scale).
 */
function workerTimeChart(runs: readonly NamedSeries[]): Chart {
  const values = runs.flatMap(({ name, series }) => {
    const workers = series.workers;
    const rows = workers.length <= 16
      ? workers.map((time) => ({
        label: `${name} · worker ${time.worker}`,
        time,
      }))
      : [{
        label: `${name} · mean of ${workers.length} workers`,
        time: {
          computeMs: workers.reduce((sum, w) => sum + w.computeMs, 0) / workers.length,
          commMs: workers.reduce((sum, w) => sum + w.commMs, 0) / workers.length,
          otherMs: workers.reduce((sum, w) => sum + w.otherMs, 0) / workers.length,
        },
      }];
    return rows.flatMap(({ label, time }) => [
      { label, run: name, part: "compute", order: 0, seconds: time.computeMs / 1000 },
      { label, run: name, part: "waiting on communication", order: 1, seconds: time.commMs / 1000 },
      { label, run: name, part: "other", order: 2, seconds: time.otherMs / 1000 },
    ]);
  });
  const labels = [...new Set(values.map((value) => value.label))];
  return {
    id: "worker-time",
    title: "where each worker's training time went",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      width: 420,
      height: { step: 14 },
      config: CONFIG,
      data: { values },
      mark: "bar",
      encoding: {
        y: {
          field: "label",
          type: "nominal",
          title: null,
          sort: labels,
          axis: { labelLimit: 320 },
        },
        x: { field: "seconds", type: "quantitative", title: "time (s)", stack: "zero" },
        color: {
          field: "part",
          type: "nominal",
          title: "time spent",
          scale: {
            domain: ["compute", "waiting on communication", "other"],
            range: [SERIES_COLORS[0]!, SERIES_COLORS[1]!, INK.grid],
          },
        },
        order: { field: "order", type: "quantitative" },
      },
    },
  };
}

/** Height of the membership chart's plot, px. */
const HEIGHT = 160;

/** A run's name and membership over its steps, in the order it is drawn. */
export interface NamedTimeline {
  readonly name: string;
  readonly timeline: MembershipTimeline;
}

/**
 * Live workers per step of elastic runs: a step line per run, and each leave marked with who
 * left and why. The specification's own data are the line's points (`run`, `step`, `live`);
 * the marks' layer carries the changes (`label` added).
 *
 * @param names Every run's name, in drawing order (so each keeps its colour).
 * @param runs The elastic runs' timelines.
 * @returns The chart.
 */
export function membershipChart(
  names: readonly string[],
  runs: readonly NamedTimeline[],
): Chart {
  const values = runs.flatMap(({ name, timeline }) =>
    timeline.points.map((point) => ({ run: name, step: point.step, live: point.live }))
  );
  const events = runs.flatMap(({ name, timeline }) =>
    timeline.changes.map((change) => ({
      run: name,
      step: change.step,
      live: change.members.length,
      label: changeLabel(change),
    }))
  );
  const color = {
    field: "run",
    type: "nominal",
    title: null,
    scale: colorScale(names, values),
    legend: { orient: "bottom", direction: "horizontal", columns: 2 },
  } as const;
  const most = Math.max(1, ...runs.map(({ timeline }) => timeline.workers));
  // Each run's labels sit a line higher than the previous run's, so runs losing a worker at the
  // same step stay readable: 13 px a line, in units of the y axis.
  const pixel = most / HEIGHT;
  const labels = events.map((event) => ({
    ...event,
    labelY: event.live + pixel * (10 + 13 * runs.findIndex((run) => run.name === event.run)),
  }));
  return {
    id: "membership",
    title: "live workers per step (elastic runs; each leave marked with who and why)",
    spec: {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      width: 640,
      height: HEIGHT,
      config: CONFIG,
      data: { values },
      encoding: {
        x: {
          field: "step",
          type: "quantitative",
          title: "step",
          axis: { tickMinStep: 1, format: "d" },
        },
        y: {
          field: "live",
          type: "quantitative",
          title: "live workers",
          scale: { domain: [0, most] },
          axis: { tickMinStep: 1, format: "d" },
        },
        color,
      },
      layer: [
        { mark: { type: "line", interpolate: "step-after" } },
        {
          data: { values: events },
          mark: { type: "point", shape: "triangle-down", size: 70, filled: true },
        },
        {
          data: { values: labels },
          mark: { type: "text", align: "left", dx: 6, fontSize: 11 },
          encoding: {
            y: { field: "labelY", type: "quantitative" },
            text: { field: "label", type: "nominal" },
          },
        },
      ],
    },
  };
}

/**
 * Renders a Vega-Lite specification to SVG text, headless.
 *
 * @param spec The specification.
 * @returns The SVG document.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderSvg } from "./charts.ts";
 *
 * const svg = await renderSvg({
 *   data: { values: [{ x: 0, y: 1 }, { x: 1, y: 2 }] },
 *   mark: "line",
 *   encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
 * });
 * assert.ok(svg.startsWith("<svg") && svg.includes("</svg>"));
 * ```
 */
export async function renderSvg(spec: vegaLite.TopLevelSpec): Promise<string> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
