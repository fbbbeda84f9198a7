/**
 * `localSgd()`: periodic model averaging (docs/algorithms.md §1.2).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { type BufferPolicy, buffers, integer } from "../fields.ts";
import { type BaseDefinition, buildNode, type OptionNames } from "../kind.ts";
import { ringAllReduceBytes } from "../wire_bytes.ts";

/** Local SGD: models averaged every `tau` steps. */
export interface LocalSgdNode {
  /** Node kind, named after the DSL factory `localSgd()`. */
  readonly kind: "localSgd";
  /** Steps between model averages. */
  readonly tau: number;
  /** What happens to optimizer buffers when the models are averaged. */
  readonly buffers: BufferPolicy;
}

/** Options of {@linkcode localSgd}. */
export interface LocalSgdOptions {
  /** Steps between model averages. */
  readonly tau: number;
  /** Optimizer buffers at each average (default `"keep"`). */
  readonly buffers?: BufferPolicy;
}

const OPTIONS: OptionNames<LocalSgdOptions> = { tau: true, buffers: true };

/**
 * Local SGD: each worker steps alone and models are averaged after every `tau` steps.
 *
 * @param options Averaging period and optimizer-buffer policy at averaging (default `"keep"`).
 * @returns A `localSgd` base node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { localSgd } from "./local_sgd.ts";
 * assert.ok(localSgd({ tau: 4 }).buffers === "keep");
 * ```
 */
export function localSgd(options: LocalSgdOptions): LocalSgdNode {
  return buildNode(
    { kind: "localSgd", tau: options.tau, buffers: options.buffers ?? "keep" },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `localSgd`. */
export const localSgdKind: BaseDefinition<LocalSgdNode, false> = {
  schema: v.strictObject({ kind: v.literal("localSgd"), tau: integer(1), buffers }),
  form: { make: localSgd, required: ["tau"] },
  topology: null,
  decentralized: false,
  ownsMomentum: false,
  plainSgd: null,
  acceptsOuter: true,
  compresses: "modelDifference",
  dividesByLr: () => null,
  syncPeriod: (node) => node.tau,
  traffic: (node, { d, n, compressedExchange, outerTau }) => {
    // A sync point that is also an outer step is skipped: the outer step averages anyway.
    const syncsPerStep = 1 / node.tau - (outerTau === null ? 0 : 1 / outerTau);
    return compressedExchange === null
      ? { base: ringAllReduceBytes(d, n) * syncsPerStep, compressed: 0 }
      : { base: 0, compressed: compressedExchange * syncsPerStep };
  },
};
