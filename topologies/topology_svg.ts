/**
 * A standalone SVG drawing of a topology at one step, for reports and the CLI.
 *
 * Ranks sit on a circle (a torus on its grid, rank `r·cols + c` at row `r`, column `c`). An edge
 * used in both directions is a plain line; one used in a single direction is an arrow from sender
 * to receiver. Self-weights are not drawn. The drawing is deliberately plain: no scripts, no
 * external resources, exactly one `<circle>` per rank, so it embeds anywhere.
 *
 * @module
 */

import { FONT, INK, SERIES_COLORS } from "../visual_style.ts";
import type { TopologyNode } from "./types.ts";
import { torusDimensions } from "./_shape.ts";
import { mixingMatrix } from "./mixing_matrix.ts";
import { spectralGap } from "./spectral_gap.ts";
import { topologyName } from "./topology_name.ts";

const WIDTH = 480;
const HEIGHT = 520;
const CENTRE_X = WIDTH / 2;
const CENTRE_Y = 290;
const SPAN = 380;

interface Point {
  readonly x: number;
  readonly y: number;
}

/**
 * Draws the graph of `mixingMatrix(topology, n, step)` as a standalone SVG document.
 *
 * @param topology Any topology node.
 * @param n Number of workers.
 * @param step Training step, default 0.
 * @returns SVG markup starting with `<svg`, titled with the name, n, step and spectral gap.
 * @throws {RangeError} When the topology does not fit `n` workers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ring, topologySvg } from "./mod.ts";
 *
 * const svg = topologySvg(ring(), 6);
 * assert.ok(svg.startsWith("<svg"));
 * assert.equal(svg.match(/<circle /g)?.length, 6);
 * ```
 */
export function topologySvg(topology: TopologyNode, n: number, step = 0): string {
  const w = mixingMatrix(topology, n, step);
  const points = topology.kind === "torus"
    ? gridLayout(torusDimensions(topology, n))
    : circleLayout(n);
  const radius = Math.max(6, Math.min(16, 120 / Math.sqrt(n)));
  const gap = spectralGap(w).toFixed(3);
  const title = escapeXml(`${topologyName(topology)}, n = ${n}, step ${step}, spectral gap ${gap}`);

  const edges: string[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const jToI = w[i]![j]! > 0;
      const iToJ = w[j]![i]! > 0;
      if (jToI && iToJ) edges.push(line(points[i]!, points[j]!, radius, false));
      else if (iToJ) edges.push(line(points[i]!, points[j]!, radius, true));
      else if (jToI) edges.push(line(points[j]!, points[i]!, radius, true));
    }
  }
  const nodes = points.map((p, rank) =>
    `<circle cx="${fmt(p.x)}" cy="${fmt(p.y)}" r="${fmt(radius)}" class="node"/>` +
    `<text x="${fmt(p.x)}" y="${fmt(p.y)}" class="label">${rank}</text>`
  );

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">`,
    `<title>${title}</title>`,
    "<defs>",
    '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">',
    `<path d="M0,0 L10,5 L0,10 z" fill="${INK.stroke}"/>`,
    "</marker>",
    "<style>",
    // The reports' style (visual_style.ts): same font, ink and series colour.
    `.edge{stroke:${INK.muted};stroke-width:1.2}`,
    `.arrow{stroke:${INK.stroke};stroke-width:1.2}`,
    `.node{fill:${INK.background};stroke:${SERIES_COLORS[0]};stroke-width:1.8}`,
    `.label{font:11px ${FONT};text-anchor:middle;dominant-baseline:central;fill:${INK.text}}`,
    `.title{font:600 14px ${FONT};text-anchor:middle;fill:${INK.text}}`,
    "</style>",
    "</defs>",
    `<text x="${CENTRE_X}" y="32" class="title">${title}</text>`,
    ...edges,
    ...nodes,
    "</svg>",
    "",
  ].join("\n");
}

function circleLayout(n: number): Point[] {
  if (n === 1) return [{ x: CENTRE_X, y: CENTRE_Y }];
  return Array.from({ length: n }, (_, rank) => {
    const angle = -Math.PI / 2 + (2 * Math.PI * rank) / n;
    return {
      x: CENTRE_X + (SPAN / 2) * Math.cos(angle),
      y: CENTRE_Y + (SPAN / 2) * Math.sin(angle),
    };
  });
}

function gridLayout({ rows, cols }: { rows: number; cols: number }): Point[] {
  const gap = SPAN / Math.max(rows, cols);
  const left = CENTRE_X - (gap * (cols - 1)) / 2;
  const top = CENTRE_Y - (gap * (rows - 1)) / 2;
  return Array.from({ length: rows * cols }, (_, rank) => ({
    x: left + gap * (rank % cols),
    y: top + gap * Math.floor(rank / cols),
  }));
}

/** A line from `a` to `b`, trimmed to the node circles; with an arrowhead at `b` if directed. */
function line(a: Point, b: Point, radius: number, directed: boolean): string {
  const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
  const ux = (b.x - a.x) / length;
  const uy = (b.y - a.y) / length;
  const end = directed ? radius + 2 : radius;
  const attributes = directed ? 'class="arrow" marker-end="url(#arrow)"' : 'class="edge"';
  return `<line x1="${fmt(a.x + ux * radius)}" y1="${fmt(a.y + uy * radius)}" ` +
    `x2="${fmt(b.x - ux * end)}" y2="${fmt(b.y - uy * end)}" ${attributes}/>`;
}

function fmt(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}
