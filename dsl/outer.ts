/**
 * Outer algorithms (docs/algorithms.md §2): a slow update every `tau` steps, wrapped around any base.
 *
 * @module
 */

import { deepFreeze } from "./_freeze.ts";
import type { BmufNode, BufferPolicy, SlowMoNode } from "./plan.ts";

/**
 * SlowMo (Wang et al. 2020): every `tau` steps, `x̄ = avg_i(x_i)`,
 * `u = β u + (x_prev − x̄)/γ_k`, `x_prev −= α γ_k u`, and every worker restarts from `x_prev`.
 *
 * @param options Period, slow momentum β (default 0.5), slow rate α (default 1) and buffer
 *   policy (default `"keep"`).
 * @returns A `slowMo` outer node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { slowMo } from "./outer.ts";
 * assert.ok(slowMo({ beta: 0.7, tau: 12 }).alpha === 1);
 * ```
 */
export function slowMo(
  options: {
    readonly tau: number;
    readonly beta?: number;
    readonly alpha?: number;
    readonly buffers?: BufferPolicy;
  },
): SlowMoNode {
  return deepFreeze({
    kind: "slowMo",
    tau: options.tau,
    beta: options.beta ?? 0.5,
    alpha: options.alpha ?? 1,
    buffers: options.buffers ?? "keep",
  });
}

/**
 * BMUF (Chen & Huo 2016): every `tau` steps, `G = avg_i(x_i) − W`, `Δ = η Δ + ζ G`,
 * `W += Δ`; workers restart from `W` (or `W + η Δ` with Nesterov).
 *
 * @param options Period, block learning rate ζ (default 1), block momentum η (default
 *   `1 − 1/n`) and Nesterov (default false).
 * @returns A `bmuf` outer node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bmuf } from "./outer.ts";
 * assert.ok(bmuf({ tau: 8 }).blockMomentum === null);
 * ```
 */
export function bmuf(
  options: {
    readonly tau: number;
    readonly blockLr?: number;
    readonly blockMomentum?: number;
    readonly nesterov?: boolean;
  },
): BmufNode {
  return deepFreeze({
    kind: "bmuf",
    tau: options.tau,
    blockLr: options.blockLr ?? 1,
    blockMomentum: options.blockMomentum ?? null,
    nesterov: options.nesterov ?? false,
  });
}

/**
 * BMUF's block momentum for `n` workers: the node's value, or `1 − 1/n` when unset.
 *
 * @param node The BMUF node.
 * @param workers The number of workers.
 * @returns The block momentum η.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bmuf, bmufBlockMomentum } from "./outer.ts";
 * assert.ok(bmufBlockMomentum(bmuf({ tau: 4 }), 4) === 0.75);
 * ```
 */
export function bmufBlockMomentum(node: BmufNode, workers: number): number {
  return node.blockMomentum ?? 1 - 1 / workers;
}
