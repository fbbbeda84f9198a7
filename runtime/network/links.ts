/**
 * The declared network's links (`network()` in the plan): what each directed link between two
 * ranks is, and when a message sent on it leaves and arrives. The same schedule shapes real
 * sends on the TCP transport and stamps simulated ones on the virtual clock, so both follow one
 * model (docs/algorithms.md §0):
 *
 * - a link is a FIFO queue with its own capacity in each direction (full duplex): a message of
 *   `b` bytes starts when the link is free and the sender is ready, and its last byte leaves
 *   `8b / bandwidth` later;
 * - it arrives `latency + jitter` after that, the jitter drawn uniformly from `[0, jitter]`
 *   from a stream seeded by `(seed, "jitter", from, to)`; arrivals stay in sending order.
 *
 * @module
 */

import type { NetworkNode } from "../../dsl/plan.ts";
import { type Random, randomStream } from "../random.ts";

/** One directed link's parameters. */
export interface LinkParams {
  /** Bits per second; `null`: unlimited (no serialisation time). */
  readonly bitsPerSecond: number | null;
  /** One-way latency, ms. */
  readonly latencyMs: number;
  /** Bound of the uniform extra latency, ms. */
  readonly jitterMs: number;
}

/**
 * The parameters of the link from `from` to `to`: the network's, unless a link override names
 * the pair (in either order).
 *
 * @param network The plan's network node.
 * @param from The sending rank.
 * @param to The receiving rank.
 * @returns The link's bandwidth, latency and jitter.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linkParams } from "./links.ts";
 * import { network } from "../../dsl/network.ts";
 *
 * const net = network({ bandwidth: "1Gbit", links: [{ between: [0, 2], bandwidth: "10Mbit" }] });
 * assert.equal(linkParams(net, 2, 0).bitsPerSecond, 1e7);
 * assert.equal(linkParams(net, 1, 0).bitsPerSecond, 1e9);
 * ```
 */
export function linkParams(network: NetworkNode, from: number, to: number): LinkParams {
  const link = network.links.find(({ between: [a, b] }) =>
    (a === from && b === to) || (a === to && b === from)
  );
  return {
    bitsPerSecond: link?.bandwidthBitsPerSecond ?? network.bandwidthBitsPerSecond,
    latencyMs: link?.latencyMs ?? network.latencyMs,
    jitterMs: link?.jitterMs ?? network.jitterMs,
  };
}

/**
 * Whether a network changes when messages leave or arrive at all (a bandwidth, a latency, a
 * jitter or a link override); a network of stragglers only does not.
 *
 * @param network The plan's network node.
 * @returns True when sends must be scheduled.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shapesLinks } from "./links.ts";
 * import { network } from "../../dsl/network.ts";
 * assert.ok(shapesLinks(network({ latency: "1ms" })));
 * assert.ok(!shapesLinks(network({ stragglers: { ranks: [0], slowdown: 2 } })));
 * ```
 */
export function shapesLinks(network: NetworkNode): boolean {
  return network.bandwidthBitsPerSecond !== null || network.latencyMs > 0 ||
    network.jitterMs > 0 || network.links.length > 0;
}

/** When a message leaves its sender and when it reaches its receiver, in ms. */
export interface Transfer {
  /** When its last byte has left the sender (the link is free again). */
  readonly leftAt: number;
  /** When it has fully arrived at the receiver. */
  readonly arriveAt: number;
}

/** One sender's queues on its outgoing links. */
export class LinkSchedule {
  readonly #network: NetworkNode;
  readonly #rank: number;
  readonly #seed: number;
  readonly #freeAt = new Map<number, number>();
  readonly #lastArrival = new Map<number, number>();
  readonly #params = new Map<number, LinkParams>();
  readonly #jitter = new Map<number, Random>();

  /**
   * @param network The plan's network node.
   * @param rank The sending rank.
   * @param seed The plan seed (for the jitter streams).
   */
  constructor(network: NetworkNode, rank: number, seed: number) {
    this.#network = network;
    this.#rank = rank;
    this.#seed = seed;
  }

  /**
   * Schedules a message of `bytes` bytes to `to`, ready to leave at `readyAt`.
   *
   * @param to The receiving rank.
   * @param bytes The bytes on the wire (frame header included).
   * @param readyAt When the sender hands it over, in ms (any clock, consistently).
   * @returns When it leaves and when it arrives.
   * @example A 1 MB message on 8 Mbit/s with 5 ms latency arrives 1.005 s after it starts
   * ```ts
   * import assert from "node:assert/strict";
   * import { LinkSchedule } from "./links.ts";
   * import { network } from "../../dsl/network.ts";
   *
   * const links = new LinkSchedule(network({ bandwidth: "8Mbit", latency: "5ms" }), 0, 0);
   * assert.deepEqual(links.transfer(1, 1_000_000, 0), { leftAt: 1000, arriveAt: 1005 });
   * ```
   */
  transfer(to: number, bytes: number, readyAt: number): Transfer {
    const params = this.#paramsTo(to);
    const start = Math.max(readyAt, this.#freeAt.get(to) ?? -Infinity);
    const leftAt = params.bitsPerSecond === null
      ? start
      : start + bytes * 8 / params.bitsPerSecond * 1000;
    this.#freeAt.set(to, leftAt);
    const jitter = params.jitterMs > 0 ? this.#jitterTo(to).uniform() * params.jitterMs : 0;
    const arriveAt = Math.max(leftAt + params.latencyMs + jitter, this.#lastArrival.get(to) ?? 0);
    this.#lastArrival.set(to, arriveAt);
    return { leftAt, arriveAt };
  }

  #paramsTo(to: number): LinkParams {
    let params = this.#params.get(to);
    if (params === undefined) {
      params = linkParams(this.#network, this.#rank, to);
      this.#params.set(to, params);
    }
    return params;
  }

  #jitterTo(to: number): Random {
    let random = this.#jitter.get(to);
    if (random === undefined) {
      random = randomStream(this.#seed, "jitter", this.#rank, to);
      this.#jitter.set(to, random);
    }
    return random;
  }
}
