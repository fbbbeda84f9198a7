/**
 * Network emulation: link bandwidth, latency, jitter and stragglers applied by the runtime to
 * every message, so algorithms can be compared under a slow network on one machine.
 *
 * @module
 */

import { deepFreeze } from "./_freeze.ts";
import type { NetworkNode } from "./plan.ts";

/** A unit suffix accepted in a {@linkcode Bandwidth} text (decimal prefixes: 1 kbit = 1000 bit). */
export type BandwidthUnit = "bit" | "kbit" | "Mbit" | "Gbit";

/** A unit suffix accepted in a {@linkcode Duration} text: microseconds, milliseconds, seconds. */
export type TimeUnit = "us" | "ms" | "s";

/** Bandwidth units, in bits per second. */
const BANDWIDTH_UNITS: Readonly<Record<BandwidthUnit, number>> = {
  bit: 1,
  kbit: 1e3,
  Mbit: 1e6,
  Gbit: 1e9,
};
/** Time units, in milliseconds. */
const TIME_UNITS: Readonly<Record<TimeUnit, number>> = { us: 1e-3, ms: 1, s: 1e3 };

/** A bandwidth: bits per second, or text such as `"100Mbit"` or `"1Gbit/s"`. */
export type Bandwidth =
  | number
  | `${number}${BandwidthUnit}`
  | `${number}${BandwidthUnit}/s`;

/** A duration: milliseconds, or text such as `"5ms"`, `"200us"` or `"1s"`. */
export type Duration = number | `${number}${TimeUnit}`;

/** A link that differs from the network's defaults (both directions between two ranks). */
export interface LinkOptions {
  /** The two ranks the link joins. */
  readonly between: readonly [number, number];
  /** The link's bandwidth (default: the network's). */
  readonly bandwidth?: Bandwidth;
  /** The link's one-way latency (default: the network's). */
  readonly latency?: Duration;
  /** The link's jitter bound (default: the network's). */
  readonly jitter?: Duration;
}

/** Options of {@linkcode network}. */
export interface NetworkOptions {
  /** Per-link bandwidth (default unlimited). */
  readonly bandwidth?: Bandwidth;
  /** One-way latency added to every message (default 0). */
  readonly latency?: Duration;
  /** Uniform random extra latency in `[0, jitter]` (default 0). */
  readonly jitter?: Duration;
  /** Links that differ from the defaults: a slow uplink, a distant pair of workers. */
  readonly links?: readonly LinkOptions[];
  /**
   * Slow workers: fixed ranks and/or a per-step probability; a slow step's compute takes
   * `slowdown` times longer (default 1) plus an exponentially distributed extra `delay` (mean,
   * default 0). Seeded from the plan seed.
   */
  readonly stragglers?: {
    readonly ranks?: readonly number[];
    readonly probability?: number;
    readonly slowdown?: number;
    readonly delay?: Duration;
  };
  /**
   * Compute time of one step on the virtual clock (default: measured), for simulated times that
   * are exactly reproducible.
   */
  readonly computeMs?: Duration;
}

/** Parses `"<number><unit>"` with the given unit table; NaN (reported by the validator) if not. */
function parseQuantity(text: string, units: Record<string, number>): number {
  const match = /^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-zA-Z]+)(?:\/s)?\s*$/.exec(text);
  const scale = match?.[2] === undefined ? undefined : units[match[2]];
  return match?.[1] === undefined || scale === undefined ? NaN : Number(match[1]) * scale;
}

/**
 * Converts a bandwidth to bits per second.
 *
 * @param bandwidth A number (bits per second) or text such as `"100Mbit"`.
 * @returns Bits per second, or NaN when the text is not a bandwidth.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bitsPerSecond } from "./network.ts";
 * assert.ok(bitsPerSecond("1Gbit/s") === 1e9);
 * ```
 */
export function bitsPerSecond(bandwidth: Bandwidth): number {
  return typeof bandwidth === "number" ? bandwidth : parseQuantity(bandwidth, BANDWIDTH_UNITS);
}

/**
 * Converts a duration to milliseconds.
 *
 * @param duration A number (milliseconds) or text such as `"200us"`.
 * @returns Milliseconds, or NaN when the text is not a duration.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { milliseconds } from "./network.ts";
 * assert.ok(milliseconds("2s") === 2000);
 * ```
 */
export function milliseconds(duration: Duration): number {
  return typeof duration === "number" ? duration : parseQuantity(duration, TIME_UNITS);
}

/**
 * An emulated network between workers. With the TCP transport it shapes what each worker sends
 * (a token bucket per link and the latency), so wall-clock times reflect it; with
 * `--clock virtual` nothing sleeps and every worker's simulated clock advances by its compute time
 * and by each message's modelled transfer time.
 *
 * @param options Bandwidth, latency, jitter, per-link overrides, stragglers and compute time.
 * @returns A `network` node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { network } from "./network.ts";
 * const net = network({
 *   bandwidth: "100Mbit",
 *   latency: "5ms",
 *   links: [{ between: [0, 1], bandwidth: "10Mbit" }],
 * });
 * assert.ok(net.bandwidthBitsPerSecond === 1e8 && net.latencyMs === 5);
 * assert.ok(net.links[0]!.bandwidthBitsPerSecond === 1e7 && net.links[0]!.latencyMs === null);
 * ```
 */
export function network(options: NetworkOptions = {}): NetworkNode {
  const stragglers = options.stragglers;
  const optional = <T>(value: T | undefined, convert: (value: T) => number) =>
    value === undefined ? null : convert(value);
  return deepFreeze({
    kind: "network",
    bandwidthBitsPerSecond: optional(options.bandwidth, bitsPerSecond),
    latencyMs: milliseconds(options.latency ?? 0),
    jitterMs: milliseconds(options.jitter ?? 0),
    links: (options.links ?? []).map((link) => ({
      between: [link.between[0], link.between[1]] as const,
      bandwidthBitsPerSecond: optional(link.bandwidth, bitsPerSecond),
      latencyMs: optional(link.latency, milliseconds),
      jitterMs: optional(link.jitter, milliseconds),
    })),
    stragglers: stragglers === undefined ? null : {
      ranks: [...(stragglers.ranks ?? [])],
      probability: stragglers.probability ?? 0,
      slowdown: stragglers.slowdown ?? 1,
      delayMs: milliseconds(stragglers.delay ?? 0),
    },
    computeMs: optional(options.computeMs, milliseconds),
  });
}
