/**
 * The one visual style of every picture gossamer draws: run reports, the live dashboard and
 * topology drawings share these fonts and colours, so a figure from one sits beside a figure
 * from another without looking foreign. A leaf module with no imports, usable from every layer.
 *
 * @module
 */

/** Font stack of every label and title. */
export const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', sans-serif";

/** Monospace font stack, for plan expressions and numbers in tables. */
export const MONO_FONT = "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace";

/** Colours of text, secondary text, grid lines, strokes and the page. */
export const INK = {
  text: "#1f2933",
  muted: "#616e7c",
  grid: "#e4e7eb",
  stroke: "#3e4c59",
  background: "#ffffff",
  panel: "#f5f7fa",
} as const;

/**
 * Series colours, in the order runs are drawn: Tableau 10, chosen for telling apart up to ten
 * runs in print and for the common forms of colour blindness.
 */
export const SERIES_COLORS: readonly string[] = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];
