/**
 * Internal argument checks and small integer helpers shared by the topology modules.
 *
 * @module
 */

/** Whether `value` is an integer ≥ `min`. */
export function isIntegerAtLeast(value: unknown, min: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min;
}

/**
 * Throws unless `n` is a positive integer.
 *
 * @param action What was being done, e.g. `"Cannot build ring weights"`.
 */
export function checkWorkers(n: number, action: string): void {
  if (!isIntegerAtLeast(n, 1)) {
    throw new RangeError(`${action}: workers "${n}" is not a positive integer`);
  }
}

/**
 * Throws unless `step` is a non-negative integer.
 *
 * @param action What was being done, e.g. `"Cannot build mixing matrix"`.
 */
export function checkStep(step: number, action: string): void {
  if (!isIntegerAtLeast(step, 0)) {
    throw new RangeError(`${action}: step "${step}" is not a non-negative integer`);
  }
}

/** ⌈log2 n⌉ for a positive integer, computed exactly with integers (0 for n = 1). */
export function ceilLog2(n: number): number {
  let exponent = 0;
  while (2 ** exponent < n) exponent++;
  return exponent;
}

/** `value mod n` in `0..n-1`, also for negative values. */
export function mod(value: number, n: number): number {
  return ((value % n) + n) % n;
}

/** An n×n matrix of zeros. */
export function zeros(n: number): number[][] {
  return Array.from({ length: n }, () => new Array<number>(n).fill(0));
}

/** `"1 entry"`, `"3 entries"`: a count of matrix entries for messages. */
export function entries(count: number): string {
  return count === 1 ? "1 entry" : `${count} entries`;
}

/** `"1 node"`, `"9 nodes"`: a count of graph nodes for messages. */
export function nodes(count: number): string {
  return count === 1 ? "1 node" : `${count} nodes`;
}
