/**
 * `fetchSgd({ rows, cols, k, rho })`: FetchSGD, count-sketch compression with momentum and error
 * kept in sketch space (docs/algorithms.md §3.5).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { integer, momentum } from "../fields.ts";
import { buildNode, type CompressorDefinition, type OptionNames } from "../kind.ts";
import { FLOAT_BYTES, ringAllReduceBytes } from "../wire_bytes.ts";
import { kFitsModel } from "./_k_fits.ts";

/** FetchSGD: the summed gradient sketches carry momentum and error, the same on every worker. */
export interface FetchSgdNode {
  /** Node kind, named after the DSL factory `fetchSgd()`. */
  readonly kind: "fetchSgd";
  /**
   * Rows of the count sketch, each with its own hashes; estimates are the median over rows (the
   * mean of the two middle values for an even count, so odd counts are the usual choice).
   */
  readonly rows: number;
  /** Buckets per sketch row. */
  readonly cols: number;
  /** Coordinates applied per step: the top `k` of the error sketch's estimates. */
  readonly k: number;
  /** Momentum `ρ` in `[0, 1)` of the momentum sketch; it replaces the optimizer's momentum. */
  readonly rho: number;
}

/** Options of {@linkcode fetchSgd}. */
export interface FetchSgdOptions {
  /** Buckets per row. */
  readonly cols: number;
  /** Coordinates applied per step. */
  readonly k: number;
  /** Sketch rows (default 5). */
  readonly rows?: number;
  /** Momentum ρ (default 0.9). */
  readonly rho?: number;
}

const OPTIONS: OptionNames<FetchSgdOptions> = { cols: true, k: true, rows: true, rho: true };

/**
 * FetchSGD (Rothchild et al., ICML 2020): workers all-reduce count sketches of their gradients;
 * the summed sketch feeds a momentum sketch and an error sketch every worker keeps identically,
 * the learning rate enters the error sketch, and the top `k` of its estimates are applied.
 *
 * @param options Buckets per row `cols`, `k`, sketch rows (default 5) and momentum `rho`
 *   (default 0.9).
 * @returns A `fetchSgd` compressor node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fetchSgd } from "./fetch_sgd.ts";
 * const node = fetchSgd({ cols: 5000, k: 1000 });
 * assert.ok(node.rows === 5 && node.rho === 0.9);
 * ```
 */
export function fetchSgd(options: FetchSgdOptions): FetchSgdNode {
  return buildNode(
    {
      kind: "fetchSgd",
      rows: options.rows ?? 5,
      cols: options.cols,
      k: options.k,
      rho: options.rho ?? 0.9,
    },
    options,
    OPTIONS,
  );
}

/** Everything the plan layer knows about `fetchSgd`. */
export const fetchSgdKind: CompressorDefinition<FetchSgdNode> = {
  schema: v.strictObject({
    kind: v.literal("fetchSgd"),
    rows: integer(1),
    cols: integer(1),
    k: integer(1),
    rho: momentum,
  }),
  form: { make: fetchSgd, required: ["cols", "k"] },
  compresses: ["gradient"],
  linear: true,
  plainSgd: "fetchSgd applies its own momentum (rho) and learning rate",
  // Its error sketch is part of the algorithm (§3.5), not a wrapper.
  errorFeedback: () => false,
  returnsUpdate: true,
  wireBytes: (node) => node.rows * node.cols * FLOAT_BYTES,
  // One all-reduce of the summed sketch per step; nothing else crosses the wire.
  exchangeBytes: (node, _d, n) => ringAllReduceBytes(node.rows * node.cols, n),
  check: kFitsModel,
};
