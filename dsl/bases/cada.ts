/**
 * `cada({ c, … })`: communication-adaptive distributed Adam (docs/algorithms.md §4.1).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { above, integer, momentum, nonNegative } from "../fields.ts";
import { type BaseDefinition, buildNode, type OptionNames } from "../kind.ts";
import { FLOAT_BYTES } from "../wire_bytes.ts";

/** CADA: communication-adaptive distributed Adam, parameter-server form over a star. */
export interface CadaNode {
  /** Node kind, named after the DSL factory `cada()`. */
  readonly kind: "cada";
  /**
   * 1: compare gradients with a snapshot refreshed every `maxDelay` steps; 2: with the gradient at
   * the last uploaded iterate.
   */
  readonly variant: 1 | 2;
  /**
   * Threshold constant (≥ 0): a worker uploads when its gradient change exceeds `c/dMax` times the
   * sum of recent squared model changes; 0 uploads every step.
   */
  readonly c: number;
  /** Number of recent model changes summed into the threshold. */
  readonly dMax: number;
  /** Maximum staleness, in steps, before a worker's upload is forced. */
  readonly maxDelay: number;
  /** First-moment decay of the server's Adam update, in `[0, 1)`. */
  readonly beta1: number;
  /** Second-moment decay of the server's Adam update, in `[0, 1)`. */
  readonly beta2: number;
  /** Denominator offset of the server's Adam update (> 0). */
  readonly eps: number;
  /** Use the running maximum of the second moment (AMSGrad). */
  readonly amsgrad: boolean;
}

/** Options of {@linkcode cada}. */
export interface CadaOptions {
  /** 1: compare with a snapshot refreshed every `maxDelay` steps; 2 (default): with the last upload's iterate. */
  readonly variant?: 1 | 2;
  /** Threshold constant; 0 makes every worker upload every step. */
  readonly c: number;
  /** Model changes remembered for the threshold (default 10). */
  readonly dMax?: number;
  /** Maximum staleness before a forced upload (default 50). */
  readonly maxDelay?: number;
  /** First-moment decay (default 0.9). */
  readonly beta1?: number;
  /** Second-moment decay (default 0.999). */
  readonly beta2?: number;
  /** Denominator offset (default 1e-8). */
  readonly eps?: number;
  /** AMSGrad maximum of the second moment (default true). */
  readonly amsgrad?: boolean;
}

const OPTIONS: OptionNames<CadaOptions> = {
  variant: true,
  c: true,
  dMax: true,
  maxDelay: true,
  beta1: true,
  beta2: true,
  eps: true,
  amsgrad: true,
};

/**
 * CADA (Chen et al. 2021): communication-adaptive distributed Adam in parameter-server form
 * over a star with rank 0 as the server; a worker uploads its gradient change only when it is
 * larger than a threshold built from recent model changes. The learning rate comes from the
 * optimizer slot, which must be plain `sgd`: CADA applies its own Adam update.
 *
 * @param options Variant, threshold constant and Adam parameters.
 * @returns A `cada` base node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cada } from "./cada.ts";
 * assert.ok(cada({ c: 0.5 }).variant === 2);
 * ```
 */
export function cada(options: CadaOptions): CadaNode {
  return buildNode(
    {
      kind: "cada",
      variant: options.variant ?? 2,
      c: options.c,
      dMax: options.dMax ?? 10,
      maxDelay: options.maxDelay ?? 50,
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.999,
      eps: options.eps ?? 1e-8,
      amsgrad: options.amsgrad ?? true,
    },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `cada`. */
export const cadaKind: BaseDefinition<CadaNode, false> = {
  schema: v.strictObject({
    kind: v.literal("cada"),
    variant: v.picklist([1, 2]),
    c: nonNegative,
    dMax: integer(1),
    maxDelay: integer(1),
    beta1: momentum,
    beta2: momentum,
    eps: above(0),
    amsgrad: v.boolean(),
  }),
  form: { make: cada, required: ["c"] },
  topology: null,
  decentralized: false,
  ownsMomentum: false,
  plainSgd: "cada applies its own Adam update and takes only the learning rate from the optimizer",
  acceptsOuter: false,
  compresses: null,
  dividesByLr: () => null,
  syncPeriod: () => 1,
  // Rank 0 broadcasts θ to n−1 workers; each of the n−1 others uploads at most d floats.
  traffic: (_node, { d, n }) => ({
    base: 2 * (n - 1) * d * FLOAT_BYTES / n,
    compressed: 0,
    note: "cada: upper bound, every worker uploading every step; skipped uploads send nothing",
  }),
};
