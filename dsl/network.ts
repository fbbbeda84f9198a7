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

/** Options of {@linkcode network}. */
export interface NetworkOptions {
  /** Per-link bandwidth (default unlimited). */
  readonly bandwidth?: Bandwidth;
  /** One-way latency added to every message (default 0). */
  readonly latency?: Duration;
  /** Uniform random extra latency in `[0, jitter]` (default 0). */
  readonly jitter?: Duration;
  /** Slow workers: fixed ranks and/or a per-step probability, and the slowdown factor. */
  readonly stragglers?: {
    readonly ranks?: readonly number[];
    readonly probability?: number;
    readonly slowdown: number;
  };
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
 * import { bitsPerSecond } from "./network.ts";
 * console.assert(bitsPerSecond("1Gbit/s") === 1e9);
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
 * import { milliseconds } from "./network.ts";
 * console.assert(milliseconds("2s") === 2000);
 * ```
 */
export function milliseconds(duration: Duration): number {
  return typeof duration === "number" ? duration : parseQuantity(duration, TIME_UNITS);
}

/**
 * An emulated network between workers.
 *
 * @param options Bandwidth, latency, jitter and stragglers.
 * @returns A `network` node.
 * @example
 * ```ts
 * import { network } from "./network.ts";
 * const net = network({ bandwidth: "100Mbit", latency: "5ms" });
 * console.assert(net.bandwidthBitsPerSecond === 1e8 && net.latencyMs === 5);
 * ```
 */
export function network(options: NetworkOptions = {}): NetworkNode {
  const stragglers = options.stragglers;
  return deepFreeze({
    kind: "network",
    bandwidthBitsPerSecond: options.bandwidth === undefined
      ? null
      : bitsPerSecond(options.bandwidth),
    latencyMs: milliseconds(options.latency ?? 0),
    jitterMs: milliseconds(options.jitter ?? 0),
    stragglers: stragglers === undefined ? null : {
      ranks: [...(stragglers.ranks ?? [])],
      probability: stragglers.probability ?? 0,
      slowdown: stragglers.slowdown,
    },
  });
}
