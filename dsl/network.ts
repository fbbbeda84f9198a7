/**
 * Network emulation: link bandwidth, latency, jitter and stragglers applied by the runtime to
 * every message, so algorithms can be compared under a slow network on one machine.
 *
 * @module
 */

import * as v from "../deps/valibot.ts";
import { above, between, integer, nonNegative, probability } from "./fields.ts";
import {
  buildNode,
  type Form,
  type NodeIssue,
  type NodeSchema,
  type OptionNames,
  type OptionProblem,
} from "./kind.ts";
import { unknownOptions } from "../strict_options.ts";
import { type FailureNode, failureNode, type FailureOptions, failureSchema } from "./elastic.ts";

/**
 * Workers that run slower than the rest. A slow worker's step takes `slowdown` times its compute
 * time, plus an extra delay drawn from an exponential distribution of mean `delayMs`; draws are
 * seeded from the plan seed, per worker and step.
 */
export interface StragglersNode {
  /** Ranks that are always slow. */
  readonly ranks: readonly number[];
  /** Probability that any other worker is slow at a given step. */
  readonly probability: number;
  /** Factor by which a slow worker's compute takes longer (≥ 1). */
  readonly slowdown: number;
  /** Mean of the exponentially distributed extra delay of a slow step, in ms (0: none). */
  readonly delayMs: number;
}

/**
 * One link that differs from the network's defaults, in both directions between two ranks (each
 * direction has its own capacity, as a full-duplex link). `null` fields take the network's value.
 */
export interface LinkNode {
  /** The two ranks the link joins. */
  readonly between: readonly [number, number];
  /** Bandwidth in bits per second; `null`: the network's. */
  readonly bandwidthBitsPerSecond: number | null;
  /** One-way latency in milliseconds; `null`: the network's. */
  readonly latencyMs: number | null;
  /** Jitter bound in milliseconds; `null`: the network's. */
  readonly jitterMs: number | null;
}

/**
 * An emulated network between workers: link bandwidth, latency, jitter, per-link overrides and
 * stragglers, applied by the TCP transport in real time or by the virtual clock.
 */
export interface NetworkNode {
  /** Node kind, named after the DSL factory `network()`. */
  readonly kind: "network";
  /** Per-link bandwidth in bits per second; `null` means unlimited. */
  readonly bandwidthBitsPerSecond: number | null;
  /** One-way latency added to every message, in milliseconds. */
  readonly latencyMs: number;
  /** Upper bound of the uniform random extra latency of each message, in milliseconds. */
  readonly jitterMs: number;
  /** Links that differ from the defaults above. */
  readonly links: readonly LinkNode[];
  /** Slow workers; `null` when every worker runs at full speed. */
  readonly stragglers: StragglersNode | null;
  /**
   * Compute time of one step on the virtual clock, in milliseconds, for exactly reproducible
   * simulated times; `null`: the measured compute time.
   */
  readonly computeMs: number | null;
  /**
   * Declared churn for an elastic plan (`dsl/elastic.ts`): workers leaving (and rejoining) at
   * given steps, or leaving at random; empty for none. A plan written before this field existed
   * has none.
   */
  readonly failures: readonly FailureNode[];
}

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

/** Options of {@linkcode network}'s `stragglers`. */
export interface StragglerOptions {
  /** Ranks that are always slow. */
  readonly ranks?: readonly number[];
  /** Probability that any other worker is slow at a step (default 0). */
  readonly probability?: number;
  /** Factor by which a slow step's compute takes longer (default 1). */
  readonly slowdown?: number;
  /** Mean of the exponentially distributed extra delay of a slow step (default 0). */
  readonly delay?: Duration;
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
  readonly stragglers?: StragglerOptions;
  /**
   * Compute time of one step on the virtual clock (default: measured), for simulated times that
   * are exactly reproducible.
   */
  readonly computeMs?: Duration;
  /**
   * Declared churn, for an elastic plan only: `{ worker, leaveAt, joinAt? }` (the worker misses
   * the synchronisations from step `leaveAt` on and, with `joinAt`, is back from that step) or
   * `{ probability, seed? }` (before every step each live worker leaves with that probability,
   * seeded; default seed: from the plan's). Default none.
   */
  readonly failures?: readonly FailureOptions[];
}

const OPTIONS: OptionNames<NetworkOptions> = {
  bandwidth: true,
  latency: true,
  jitter: true,
  links: true,
  stragglers: true,
  computeMs: true,
  failures: true,
};
const LINK_OPTIONS: OptionNames<LinkOptions> = {
  between: true,
  bandwidth: true,
  latency: true,
  jitter: true,
};
const STRAGGLER_OPTIONS: OptionNames<StragglerOptions> = {
  ranks: true,
  probability: true,
  slowdown: true,
  delay: true,
};

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

/** A quantity written as a number or as text with a unit, and how to say it was not understood. */
interface Quantity {
  /** Its number in the plan's unit, NaN when the text is not one. */
  readonly convert: (value: never) => number;
  /** What it is, with its article. */
  readonly noun: string;
  /** What would have been understood. */
  readonly examples: string;
}

const BANDWIDTH: Quantity = {
  convert: bitsPerSecond,
  noun: "a bandwidth",
  examples: 'bits per second, or text such as "100Mbit", "1Gbit/s"',
};
const DURATION: Quantity = {
  convert: milliseconds,
  noun: "a duration",
  examples: 'milliseconds, or text such as "5ms", "200us", "1s"',
};

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
  const problems: OptionProblem[] = [];
  /** A bandwidth or duration in numbers, noting text that is neither (it becomes NaN). */
  const read = (
    value: Bandwidth | Duration | undefined,
    path: string,
    field: string,
    quantity: Quantity,
  ): number | null => {
    if (value === undefined) return null;
    const number = quantity.convert(value as never);
    if (Number.isNaN(number)) {
      problems.push({
        path,
        message: `${JSON.stringify(value)} is not ${quantity.noun}`,
        expected: quantity.examples,
        received: JSON.stringify(value),
        field,
      });
    }
    return number;
  };
  const links = (options.links ?? []).map((link, i) => {
    problems.push(...unknownOptions(link, LINK_OPTIONS, `links.${i}`));
    const at = (name: string) => `links.${i}.${name}`;
    return {
      between: [link.between[0], link.between[1]] as const,
      bandwidthBitsPerSecond: read(
        link.bandwidth,
        at("bandwidth"),
        at("bandwidthBitsPerSecond"),
        BANDWIDTH,
      ),
      latencyMs: read(link.latency, at("latency"), at("latencyMs"), DURATION),
      jitterMs: read(link.jitter, at("jitter"), at("jitterMs"), DURATION),
    };
  });
  const stragglers = options.stragglers;
  problems.push(...unknownOptions(stragglers, STRAGGLER_OPTIONS, "stragglers"));
  const failures = (options.failures ?? []).map((entry, i) => {
    const { node, problems: found } = failureNode(entry, i);
    problems.push(...found);
    return node;
  });
  return buildNode(
    {
      kind: "network",
      bandwidthBitsPerSecond: read(
        options.bandwidth,
        "bandwidth",
        "bandwidthBitsPerSecond",
        BANDWIDTH,
      ),
      latencyMs: read(options.latency ?? 0, "latency", "latencyMs", DURATION)!,
      jitterMs: read(options.jitter ?? 0, "jitter", "jitterMs", DURATION)!,
      links,
      stragglers: stragglers === undefined ? null : {
        ranks: [...(stragglers.ranks ?? [])],
        probability: stragglers.probability ?? 0,
        slowdown: stragglers.slowdown ?? 1,
        delayMs: read(
          stragglers.delay ?? 0,
          "stragglers.delay",
          "stragglers.delayMs",
          DURATION,
        )!,
      },
      computeMs: read(options.computeMs, "computeMs", "computeMs", DURATION),
      failures,
    },
    options,
    OPTIONS,
    problems,
  );
}

/** A bandwidth in the largest unit that reads back exactly (`"100Mbit"`), else bits per second. */
function bandwidthText(bits: number): string | number {
  for (const unit of ["Gbit", "Mbit", "kbit"] as const) {
    const text = `${bits / bitsPerSecond(`1${unit}`)}${unit}` as const;
    if (bits >= bitsPerSecond(`1${unit}`) && bitsPerSecond(text) === bits) return text;
  }
  return bits;
}

/** A duration as `"5ms"` when that reads back exactly, else milliseconds. */
function durationText(ms: number): string | number {
  return milliseconds(`${ms}ms`) === ms ? `${ms}ms` : ms;
}

/** A network node as `network()` options, in the units people write; `undefined`: left out. */
function networkOptions(node: NetworkNode): Record<string, unknown> {
  const optional = <T>(value: T | null, convert: (value: T) => unknown) =>
    value === null ? undefined : convert(value);
  const stragglers = (s: StragglersNode) => ({
    ranks: s.ranks,
    probability: s.probability,
    slowdown: s.slowdown,
    delay: durationText(s.delayMs),
  });
  const defaults = stragglers(network({ stragglers: {} }).stragglers!);
  return {
    bandwidth: optional(node.bandwidthBitsPerSecond, bandwidthText),
    latency: durationText(node.latencyMs),
    jitter: durationText(node.jitterMs),
    links: node.links.map((link: LinkNode) => ({
      between: link.between,
      bandwidth: optional(link.bandwidthBitsPerSecond, bandwidthText),
      latency: optional(link.latencyMs, durationText),
      jitter: optional(link.jitterMs, durationText),
    })),
    stragglers: optional(node.stragglers, (s) => {
      const written = stragglers(s);
      return Object.fromEntries(
        Object.entries(written).map(([key, value]) => [
          key,
          JSON.stringify(value) === JSON.stringify(defaults[key as keyof typeof defaults])
            ? undefined
            : value,
        ]),
      );
    }),
    computeMs: node.computeMs ?? undefined,
    failures: (node.failures ?? []).length === 0
      ? undefined
      : node.failures.map((failure) =>
        Object.fromEntries(Object.entries(failure).filter(([, value]) => value !== null))
      ),
  };
}

/** How a network is printed as DSL. */
export const NETWORK_FORM: Form = { make: network, options: networkOptions };

/** The network's schema. */
export const networkSchema: NodeSchema<NetworkNode> = v.strictObject({
  kind: v.literal("network"),
  bandwidthBitsPerSecond: v.nullable(above(0)),
  latencyMs: nonNegative,
  jitterMs: nonNegative,
  links: v.array(v.strictObject({
    between: v.tuple([integer(0), integer(0)]),
    bandwidthBitsPerSecond: v.nullable(above(0)),
    latencyMs: v.nullable(nonNegative),
    jitterMs: v.nullable(nonNegative),
  })),
  stragglers: v.nullable(v.strictObject({
    ranks: v.array(integer(0)),
    probability,
    slowdown: between(1, Number.MAX_VALUE),
    delayMs: nonNegative,
  })),
  computeMs: v.nullable(nonNegative),
  // Absent in plans written before declared failures existed.
  failures: v.optional(v.array(failureSchema), []),
});

/**
 * The network against the workers: straggler and link ranks must exist, and a link joins two
 * different ranks, once.
 *
 * @param network The network node.
 * @param workers Workers.
 * @returns Issues, their paths relative to the network.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { network, networkIssues } from "./network.ts";
 * const net = network({ links: [{ between: [0, 5], bandwidth: "1Mbit" }] });
 * assert.equal(networkIssues(net, 4)[0]?.path, "links.0.between");
 * ```
 */
export function networkIssues(network: NetworkNode, workers: number): NodeIssue[] {
  const last = workers - 1;
  const issues: NodeIssue[] = (network.stragglers?.ranks ?? []).flatMap((rank, i) =>
    rank <= last ? [] : [{
      path: `stragglers.ranks.${i}`,
      message: `straggler rank ${rank} does not exist with ${workers} workers`,
      expected: `a rank in 0..${last}`,
      received: rank,
    }]
  );
  const seen = new Set<string>();
  network.links.forEach((link, i) => {
    const [a, b] = link.between;
    const issue = (message: string, expected: string) =>
      issues.push({ path: `links.${i}.between`, message, expected, received: link.between });
    if (a > last || b > last) {
      issue(
        `link between ${a} and ${b} names a rank that does not exist with ${workers} workers`,
        `ranks in 0..${last}`,
      );
    } else if (a === b) {
      issue(`a link joins two different ranks, not ${a} and itself`, "two ranks");
    }
    const key = `${Math.min(a, b)}-${Math.max(a, b)}`;
    if (seen.has(key)) issue(`the link between ${a} and ${b} is declared twice`, "each link once");
    seen.add(key);
  });
  return issues;
}
