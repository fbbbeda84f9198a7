/**
 * Slurm host lists: the compressed form Slurm writes node names in (`SLURM_JOB_NODELIST`,
 * `SLURM_STEP_NODELIST`, `scontrol show hostnames`), such as `node[01-03,7],gpu-a[1-2]`.
 *
 * A list is comma-separated at the top level; each entry is literal text with bracketed
 * groups of numbers and ranges. A range keeps the zero padding of its lower bound
 * (`[08-10]` gives `08 09 10`), and several groups in one entry multiply out
 * (`r[1-2]n[1-2]` gives `r1n1 r1n2 r2n1 r2n2`), as Slurm's own expansion does. The first
 * host is where a launcher's rank 0 runs, which is why a worker needs this without Slurm's
 * tools at hand.
 *
 * @module
 */

/** A host list that cannot be expanded; the message quotes it and says where it is wrong. */
export class HostlistError extends Error {
  /**
   * Builds the error.
   *
   * @param message What is wrong, quoting the list.
   */
  constructor(message: string) {
    super(message);
    this.name = "HostlistError";
  }
}

/** The most hosts one list may expand to: a typo such as `[1-999999999]` is not a cluster. */
export const MAX_HOSTS = 1_000_000;

/**
 * Expands a Slurm host list into host names, in order.
 *
 * @param list The compressed list.
 * @returns Every host name.
 * @throws {HostlistError} When brackets do not match, a range is not numbers or runs
 * backwards, an entry is empty, or the list expands to more than {@linkcode MAX_HOSTS} hosts.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expandHostlist } from "./hostlist.ts";
 *
 * assert.deepEqual(expandHostlist("node[01-03,7],gpu-a[1-2]"), [
 *   "node01", "node02", "node03", "node7", "gpu-a1", "gpu-a2",
 * ]);
 * ```
 */
export function expandHostlist(list: string): string[] {
  const hosts: string[] = [];
  for (const entry of splitTopLevel(list)) {
    if (entry.trim() === "") throw new HostlistError(`The host list "${list}" has an empty entry`);
    for (const host of expandEntry(entry.trim(), list)) {
      hosts.push(host);
      if (hosts.length > MAX_HOSTS) {
        throw new HostlistError(`The host list "${list}" expands to more than ${MAX_HOSTS} hosts`);
      }
    }
  }
  return hosts;
}

/**
 * The first host of a Slurm host list, without expanding the rest.
 *
 * @param list The compressed list.
 * @returns The first host name.
 * @throws {HostlistError} As {@linkcode expandHostlist}, for the whole list.
 */
export function firstHost(list: string): string {
  // Expanding checks the whole list: a malformed tail is as wrong as a malformed head.
  return expandHostlist(list)[0]!;
}

/** Splits at commas outside brackets, refusing unbalanced brackets. */
function splitTopLevel(list: string): string[] {
  const entries: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const char = list[i];
    if (char === "[") {
      if (depth > 0) throw new HostlistError(`The host list "${list}" nests brackets at ${i + 1}`);
      depth++;
    } else if (char === "]") {
      if (depth === 0) {
        throw new HostlistError(
          `The host list "${list}" closes a bracket it never opened at ${i + 1}`,
        );
      }
      depth--;
    } else if (char === "," && depth === 0) {
      entries.push(list.slice(start, i));
      start = i + 1;
    }
  }
  if (depth > 0) throw new HostlistError(`The host list "${list}" leaves a bracket open`);
  entries.push(list.slice(start));
  return entries;
}

/** Expands one entry, such as `node[01-03,7]` or `r[1-2]n[1-4]`. */
function expandEntry(entry: string, list: string): string[] {
  const open = entry.indexOf("[");
  if (open < 0) return [entry];
  const close = entry.indexOf("]", open);
  const prefix = entry.slice(0, open);
  const numbers = expandGroup(entry.slice(open + 1, close), list);
  const rests = expandEntry(entry.slice(close + 1), list);
  const hosts: string[] = [];
  for (const number of numbers) {
    for (const rest of rests) {
      hosts.push(prefix + number + rest);
      if (hosts.length > MAX_HOSTS) {
        throw new HostlistError(`The host list "${list}" expands to more than ${MAX_HOSTS} hosts`);
      }
    }
  }
  return hosts;
}

/** Expands the inside of one bracket, such as `01-03,7`, keeping each range's padding. */
function expandGroup(group: string, list: string): string[] {
  const numbers: string[] = [];
  for (const part of group.split(",")) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (range === null) {
      throw new HostlistError(
        `The host list "${list}" has "${part}" in brackets, where a number or a range such as 01-03 belongs`,
      );
    }
    const low = range[1]!;
    const high = range[2] ?? low;
    const from = Number(low);
    const to = Number(high);
    if (to < from) {
      throw new HostlistError(`The host list "${list}" has the backward range ${part}`);
    }
    if (to - from + numbers.length >= MAX_HOSTS) {
      throw new HostlistError(`The host list "${list}" expands to more than ${MAX_HOSTS} hosts`);
    }
    for (let value = from; value <= to; value++) {
      numbers.push(String(value).padStart(low.length, "0"));
    }
  }
  return numbers;
}
