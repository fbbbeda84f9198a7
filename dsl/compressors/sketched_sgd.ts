/**
 * `sketchedSgd({ k, rows, cols, p2, rho })`: count-sketch compression with momentum and error
 * accumulation (docs/algorithms.md §3.3).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { integer, momentum, nonNegative } from "../fields.ts";
import { buildNode, type CompressorDefinition, type NodeIssue, type OptionNames } from "../kind.ts";
import { FLOAT_BYTES, ringAllReduceBytes } from "../wire_bytes.ts";
import { kFitsModel } from "./_k_fits.ts";

/** Sketched SGD: count-sketch compression with momentum and error accumulation. */
export interface SketchedSgdNode {
  /** Node kind, named after the DSL factory `sketchedSgd()`. */
  readonly kind: "sketchedSgd";
  /** Rows of the count sketch, each with its own hashes; estimates are the median over rows. */
  readonly rows: number;
  /** Buckets per sketch row. */
  readonly cols: number;
  /** Coordinates applied per step: the top `k` of the summed estimates. */
  readonly k: number;
  /**
   * Second-round factor: 0 skips the round; from 1 up, the exact values of the top `p2·k`
   * estimates are all-reduced before picking the top `k`.
   */
  readonly p2: number;
  /** Momentum `ρ` in `[0, 1)`, applied before sketching; it replaces the optimizer's momentum. */
  readonly rho: number;
}

/** Options of {@linkcode sketchedSgd}. */
export interface SketchedSgdOptions {
  /** Coordinates applied per step. */
  readonly k: number;
  /** Sketch rows (default 5). */
  readonly rows?: number;
  /** Buckets per row (default `10·k`). */
  readonly cols?: number;
  /** Second-round factor: 0 (default) or at least 1. */
  readonly p2?: number;
  /** Momentum ρ (default 0.9). */
  readonly rho?: number;
}

const OPTIONS: OptionNames<SketchedSgdOptions> = {
  k: true,
  rows: true,
  cols: true,
  p2: true,
  rho: true,
};

/**
 * Sketched SGD (Ivkin et al. 2019): count sketches of accumulated momentum, summed by
 * all-reduce (sketches are linear); the top `k` coordinates are applied.
 *
 * @param options Sketch rows (default 5) and columns (default `10·k`), `k`, second-round
 *   factor `p2` (default 0, else at least 1) and momentum `rho` (default 0.9).
 * @returns A `sketchedSgd` compressor node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sketchedSgd } from "./sketched_sgd.ts";
 * assert.ok(sketchedSgd({ k: 100 }).cols === 1000);
 * ```
 */
export function sketchedSgd(options: SketchedSgdOptions): SketchedSgdNode {
  return buildNode(
    {
      kind: "sketchedSgd",
      rows: options.rows ?? 5,
      cols: options.cols ?? 10 * options.k,
      k: options.k,
      p2: options.p2 ?? 0,
      rho: options.rho ?? 0.9,
    },
    options,
    OPTIONS,
  );
}

/**
 * Coordinates whose exact values the second round all-reduces: `p2·k` rounded up, but never more
 * than the `d` there are (the runtime fetches the same number); 0 without a second round.
 *
 * @param node The node.
 * @param d Model parameters.
 * @returns The candidates per step.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { secondRoundCandidates, sketchedSgd } from "./sketched_sgd.ts";
 * assert.equal(secondRoundCandidates(sketchedSgd({ k: 10, p2: 3 }), 1000), 30);
 * assert.equal(secondRoundCandidates(sketchedSgd({ k: 10, p2: 3 }), 20), 20);
 * ```
 */
export function secondRoundCandidates(node: SketchedSgdNode, d: number): number {
  return node.p2 === 0 ? 0 : Math.min(d, Math.ceil(node.p2 * node.k));
}

/** Everything the plan layer knows about `sketchedSgd`. */
export const sketchedSgdKind: CompressorDefinition<SketchedSgdNode> = {
  schema: v.strictObject({
    kind: v.literal("sketchedSgd"),
    rows: integer(1),
    cols: integer(1),
    k: integer(1),
    p2: nonNegative,
    rho: momentum,
  }),
  form: { make: sketchedSgd, required: ["k"] },
  compresses: ["gradient"],
  linear: true,
  plainSgd: "sketchedSgd applies its own momentum (rho)",
  // Its error accumulation is part of the algorithm (§3.3), not a wrapper.
  errorFeedback: () => false,
  wireBytes: (node) => node.rows * node.cols * FLOAT_BYTES,
  // The summed sketch, then (p2 > 0) the exact values of the candidates.
  exchangeBytes: (node, d, n) =>
    ringAllReduceBytes(node.rows * node.cols, n) +
    ringAllReduceBytes(secondRoundCandidates(node, d), n),
  check: (node, plan): NodeIssue[] => [
    ...(node.p2 > 0 && node.p2 < 1
      ? [{
        path: "p2",
        message: `sketchedSgd p2 ${node.p2} would fetch ${
          Math.ceil(node.p2 * node.k)
        } candidates, fewer than k ${node.k}: use 0 (no second round) or at least 1`,
        expected: "0, or at least 1",
        received: node.p2,
      }]
      : []),
    ...kFitsModel(node, plan),
  ],
};
