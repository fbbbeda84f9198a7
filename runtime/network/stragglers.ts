/**
 * Stragglers of the declared network: which workers are slow at which step, and by how much. A
 * slow step's compute takes `slowdown` times as long, plus an extra delay drawn from an
 * exponential distribution of mean `delayMs`. Draws come from `(seed, "straggler", rank, step)`,
 * so a run repeats exactly for a seed.
 *
 * @module
 */

import type { NetworkNode } from "../../dsl/plan.ts";
import { randomStream } from "../random.ts";

/**
 * The time a step's compute takes on worker `rank` at step `k`, given its own compute time.
 *
 * @param network The plan's network node (`null`: nobody straggles).
 * @param seed The plan seed.
 * @param rank The worker.
 * @param k The step.
 * @param computeMs The compute time of the step at full speed, in ms.
 * @returns The compute time with the straggler's slowdown and delay, in ms.
 * @example Rank 1 always runs at half speed
 * ```ts
 * import assert from "node:assert/strict";
 * import { stragglerComputeMs } from "./stragglers.ts";
 * import { network } from "../../dsl/network.ts";
 *
 * const net = network({ stragglers: { ranks: [1], slowdown: 2 } });
 * assert.equal(stragglerComputeMs(net, 0, 1, 7, 10), 20);
 * assert.equal(stragglerComputeMs(net, 0, 0, 7, 10), 10);
 * ```
 */
export function stragglerComputeMs(
  network: NetworkNode | null,
  seed: number,
  rank: number,
  k: number,
  computeMs: number,
): number {
  const stragglers = network?.stragglers ?? null;
  if (stragglers === null) return computeMs;
  const random = randomStream(seed, "straggler", rank, k);
  const slow = stragglers.ranks.includes(rank) || random.uniform() < stragglers.probability;
  if (!slow) return computeMs;
  const delay = stragglers.delayMs > 0 ? -stragglers.delayMs * Math.log(1 - random.uniform()) : 0;
  return computeMs * stragglers.slowdown + delay;
}
