/**
 * Text formatting shared by the command-line reports.
 *
 * @module
 */

/**
 * Formats a byte count with binary units.
 *
 * @param bytes A byte count.
 * @returns e.g. `"795.1 KiB"`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./format.ts";
 * assert.ok(formatBytes(1536) === "1.5 KiB");
 * ```
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Lays out rows as a left-aligned text table with a header rule.
 *
 * @param header Column titles.
 * @param rows Cells, already formatted.
 * @returns The table, one line per row.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { table } from "./format.ts";
 * assert.ok(table(["a", "bb"], [["1", "2"]]).split("\n").length === 3);
 * ```
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length))
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
