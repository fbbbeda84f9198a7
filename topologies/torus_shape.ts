/**
 * Choosing a torus grid for a number of workers.
 *
 * @module
 */

import { checkWorkers } from "./_args.ts";

/**
 * The most square grid for `n` workers: `rows` is the largest divisor of `n` not above `√n`, so
 * `rows ≤ cols` and `rows × cols = n`. A prime `n` gives a single row, which mixes like a ring.
 *
 * @param n Number of workers.
 * @returns `{ rows, cols }` with `rows * cols === n`.
 * @throws {RangeError} When `n` is not a positive integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { torusShape } from "./mod.ts";
 *
 * assert.deepEqual(torusShape(16), { rows: 4, cols: 4 });
 * assert.deepEqual(torusShape(12), { rows: 3, cols: 4 });
 * assert.deepEqual(torusShape(7), { rows: 1, cols: 7 });
 * ```
 */
export function torusShape(n: number): { rows: number; cols: number } {
  checkWorkers(n, "Cannot choose torus shape");
  let rows = Math.floor(Math.sqrt(n));
  while (n % rows !== 0) rows--;
  return { rows, cols: n / rows };
}
