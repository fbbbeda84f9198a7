/**
 * CSV files of numbers: comma-separated, one example per line, blank lines skipped. The first
 * line is a header when any of its cells is not a number. Cells may be `nan`, `inf` or `-inf`
 * (in any case), read as NaN and infinities so the feature check can name them.
 *
 * @module
 */

/** A parsed CSV table. */
export interface CsvTable {
  /** The header's column names, or `null` when the first line holds numbers. */
  readonly header: readonly string[] | null;
  /** Rows of numbers. */
  readonly rows: number;
  /** Columns per row. */
  readonly columns: number;
  /** `rows × columns` values, row-major. */
  readonly values: Float64Array;
  /** The 1-based line of each row in the file, for messages. */
  readonly lines: readonly number[];
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL = /^[+-]?(nan|inf|infinity)$/i;

/** The number a cell holds, or `null` when it is not one. */
function cellValue(cell: string): number | null {
  if (NUMBER.test(cell)) return Number(cell);
  if (!SPECIAL.test(cell)) return null;
  if (/nan/i.test(cell)) return NaN;
  return cell.startsWith("-") ? -Infinity : Infinity;
}

/**
 * Parses a CSV file of numbers.
 *
 * @param text The file's text.
 * @returns The header (when there is one) and the numbers.
 * @throws {Error} Naming the line: a cell that is not a number, or a row of another width.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCsv } from "./csv.ts";
 * const table = parseCsv("a,b\n1,2\n3,-4.5e1\n");
 * assert.deepEqual([table.header, table.rows, [...table.values]], [["a", "b"], 2, [1, 2, 3, -45]]);
 * ```
 */
export function parseCsv(text: string): CsvTable {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let header: string[] | null = null;
  let columns = -1;
  const values: number[] = [];
  const numbers: number[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const cells = line.split(",").map((cell) => cell.trim());
    if (columns === -1) {
      columns = cells.length;
      if (cells.some((cell) => cellValue(cell) === null)) {
        header = cells;
        return;
      }
    }
    if (cells.length !== columns) {
      throw new Error(`line ${i + 1} has ${cells.length} columns but expected ${columns}`);
    }
    cells.forEach((cell, column) => {
      const value = cellValue(cell);
      if (value === null) {
        throw new Error(
          `line ${i + 1}, column ${column + 1}: ${JSON.stringify(cell)} is not a number`,
        );
      }
      values.push(value);
    });
    numbers.push(i + 1);
  });
  return {
    header,
    rows: numbers.length,
    columns: Math.max(columns, 0),
    values: Float64Array.from(values),
    lines: numbers,
  };
}
