/**
 * `dqSgd({ minBits, maxBits, budgetBits, bucket })`: QSGD whose bit width changes per step within
 * a budget (docs/algorithms.md §3.2).
 *
 * @module
 */

import * as v from "../../deps/valibot.ts";
import { between, integer } from "../fields.ts";
import { buildNode, type CompressorDefinition, type NodeIssue, type OptionNames } from "../kind.ts";
import { allGatherBytes, quantizedBytes } from "../wire_bytes.ts";

/** DQ-SGD: QSGD whose bit width changes per step within a bit budget. */
export interface DqSgdNode {
  /** Node kind, named after the DSL factory `dqSgd()`. */
  readonly kind: "dqSgd";
  /** Fewest bits per value a step may use. */
  readonly minBits: number;
  /** Most bits per value a step may use. */
  readonly maxBits: number;
  /** Target average bits per value, between `minBits` and `maxBits`. */
  readonly budgetBits: number;
  /** Values per bucket; each bucket is scaled by its own float32 norm. */
  readonly bucket: number;
}

/** Options of {@linkcode dqSgd}. */
export interface DqSgdOptions {
  /** Fewest bits per value a step may use (default 2). */
  readonly minBits?: number;
  /** Most bits per value a step may use (default 8). */
  readonly maxBits?: number;
  /** Target average bits per value (default 4). */
  readonly budgetBits?: number;
  /** Values per bucket (default 512). */
  readonly bucket?: number;
}

const OPTIONS: OptionNames<DqSgdOptions> = {
  minBits: true,
  maxBits: true,
  budgetBits: true,
  bucket: true,
};

/**
 * DQ-SGD (Yan et al. 2021): QSGD whose bit width `b_k` changes per step, chosen identically on
 * every worker so the average bits per value meet `budgetBits`.
 *
 * @param options Bit range (default 2..8), budget (default 4) and bucket size (default 512).
 * @returns A `dqSgd` compressor node.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dqSgd } from "./dq_sgd.ts";
 * assert.ok(dqSgd({ budgetBits: 3 }).maxBits === 8);
 * ```
 */
export function dqSgd(options: DqSgdOptions = {}): DqSgdNode {
  return buildNode(
    {
      kind: "dqSgd",
      minBits: options.minBits ?? 2,
      maxBits: options.maxBits ?? 8,
      budgetBits: options.budgetBits ?? 4,
      bucket: options.bucket ?? 512,
    },
    options,
    OPTIONS,
  );
}

/** Bytes of one DQ-SGD code of `d` values: the mean width is the budget. */
const wireBytes = (node: DqSgdNode, d: number) => quantizedBytes(node.budgetBits, node.bucket, d);

/** Everything the plan layer knows about `dqSgd`. */
export const dqSgdKind: CompressorDefinition<DqSgdNode> = {
  schema: v.strictObject({
    kind: v.literal("dqSgd"),
    minBits: integer(1, 16),
    maxBits: integer(1, 16),
    budgetBits: between(1, 16),
    bucket: integer(1),
  }),
  form: { make: dqSgd },
  compresses: ["gradient", "modelDifference"],
  linear: false,
  plainSgd: null,
  errorFeedback: () => false,
  wireBytes,
  exchangeBytes: (node, d, n) => allGatherBytes(wireBytes(node, d), n),
  check: (node): NodeIssue[] => {
    if (node.minBits > node.maxBits) {
      return [{
        path: "minBits",
        message: `dqSgd minBits ${node.minBits} is larger than maxBits ${node.maxBits}`,
        expected: `at most ${node.maxBits}`,
        received: node.minBits,
      }];
    }
    if (node.budgetBits < node.minBits || node.budgetBits > node.maxBits) {
      return [{
        path: "budgetBits",
        message:
          `dqSgd budgetBits ${node.budgetBits} is outside minBits..maxBits ${node.minBits}..${node.maxBits}`,
        expected: `between ${node.minBits} and ${node.maxBits}`,
        received: node.budgetBits,
      }];
    }
    return [];
  },
};
