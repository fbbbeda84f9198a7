/**
 * DQ-SGD (docs/algorithms.md §3.2; Yan, Huang, Lan, Song, "DQ-SGD: dynamic quantization in SGD for
 * communication-efficient distributed learning", 2021): QSGD whose bit width `b_k` (levels
 * `s_k = 2^{b_k} − 1`) changes per step within a budget of `budgetBits` bits per value on
 * average, chosen identically on every worker from quantities every worker knows, so no extra
 * round trip is needed and every rank decodes every code with the same width.
 *
 * The rule. DQ-SGD minimises the communication for a given bound on the convergence error; in
 * that bound the quantization error of a late step weighs more than an early one (the early ones
 * are contracted away by the steps that follow), and the error a quantizer may leave shrinks with
 * the gradient, each extra bit halving it. Both say: fewer bits early, more bits late, where
 * "late" is measured by the step and by how far the gradient norm has fallen. For the `c`-th
 * exchange, at step `k` of `K`:
 *
 * 1. progress `p = ½·k/(K−1) + ½·min(1, log2(‖ḡ_first‖/‖ḡ_last‖)/4)`, the second half counting
 *    halvings of the averaged vector's norm since the first exchange, four halvings being "the
 *    end" (both norms are of means every rank decoded identically);
 * 2. a width rising with progress around the budget `B`: `B + δ(2p − 1)`,
 *    `δ = min(B − minBits, maxBits − B)`;
 * 3. minus the overspend so far, spread over the exchanges still expected, so the mean width
 *    meets the budget: `(spent − B·c) / max(1, c·(K−1−k)/(k+1))`;
 *
 * rounded and clamped to `[minBits, maxBits]`. The chosen width is reported as `bits` in the
 * step's metrics; the state (`spent`, the first and last norms, the count) is the buffer
 * `dqSgd.state`.
 *
 * @module
 */

import type { DqSgdNode } from "../../dsl/plan.ts";
import type { StateBuffer } from "../state.ts";
import { dequantizeInto, quantize } from "./qsgd.ts";
import type { CodecCore, CompressorOptions } from "./types.ts";

/** What the width rule reads: the shared history of the run. */
export interface DqSgdHistory {
  /** Bits per value spent so far, summed over exchanges. */
  readonly spentBits: number;
  /** Exchanges so far. */
  readonly exchanges: number;
  /** Norm of the first averaged vector (0 before it). */
  readonly firstNorm: number;
  /** Norm of the latest averaged vector (0 before the first). */
  readonly lastNorm: number;
}

/**
 * The bit width of the exchange at step `k` (see the module).
 *
 * @param node The `dqSgd` node.
 * @param k The step, from 0.
 * @param steps The plan's steps `K`.
 * @param history The shared history.
 * @returns An integer in `[minBits, maxBits]`.
 * @example The first exchange gets `B − δ`; on budget, at the end with the norm fallen 16-fold,
 * `B + δ`
 * ```ts
 * import assert from "node:assert/strict";
 * import { dqSgdBits } from "./dq_sgd.ts";
 * import { dqSgd } from "../../dsl/compressors/mod.ts";
 *
 * const node = dqSgd({ minBits: 2, maxBits: 8, budgetBits: 4 });
 * assert.equal(dqSgdBits(node, 0, 101, { spentBits: 0, exchanges: 0, firstNorm: 0, lastNorm: 0 }), 2);
 * const end = { spentBits: 400, exchanges: 100, firstNorm: 16, lastNorm: 1 };
 * assert.equal(dqSgdBits(node, 100, 101, end), 6);
 * ```
 */
export function dqSgdBits(
  node: DqSgdNode,
  k: number,
  steps: number,
  history: DqSgdHistory,
): number {
  const { minBits, maxBits, budgetBits: budget } = node;
  const delta = Math.min(budget - minBits, maxBits - budget);
  const stepProgress = steps <= 1 ? 0.5 : k / (steps - 1);
  const halvings = history.firstNorm > 0 && history.lastNorm > 0
    ? Math.log2(history.firstNorm / history.lastNorm)
    : 0;
  const progress = 0.5 * stepProgress + 0.5 * Math.min(1, Math.max(0, halvings / 4));
  let target = budget + delta * (2 * progress - 1);
  if (history.exchanges > 0) {
    const expected = history.exchanges * (steps - 1 - k) / (k + 1);
    target -= (history.spentBits - budget * history.exchanges) / Math.max(1, expected);
  }
  return Math.min(maxBits, Math.max(minBits, Math.round(target)));
}

/**
 * The DQ-SGD codec for vectors of `d` values.
 *
 * @param node The `dqSgd` node.
 * @param options The vector length `d` and the plan's steps.
 * @returns The codec: QSGD at this step's width, with the shared history as its state.
 */
export function dqSgdCodec(node: DqSgdNode, { d, steps }: CompressorOptions): CodecCore {
  // [spent bits, exchanges, first norm, last norm]
  const history = new Float64Array(4);
  const buffer: StateBuffer = { name: "dqSgd.state", data: history, momentum: false };
  let bits = node.minBits;
  const levels = () => 2 ** bits - 1;
  return {
    encode(values, { step, random }) {
      if (values.length !== d) {
        throw new RangeError(`Cannot encode DQ-SGD: ${values.length} values, expected ${d}`);
      }
      bits = dqSgdBits(node, step, steps, {
        spentBits: history[0]!,
        exchanges: history[1]!,
        firstNorm: history[2]!,
        lastNorm: history[3]!,
      });
      history[0]! += bits;
      history[1]! += 1;
      return quantize(values, levels(), node.bucket, random);
    },
    addDecoded(code, target, scale) {
      dequantizeInto(code, d, levels(), node.bucket, target, scale);
    },
    observeMean(mean) {
      let squares = 0;
      for (let j = 0; j < mean.length; j++) squares += mean[j]! * mean[j]!;
      const norm = Math.sqrt(squares);
      if (history[2] === 0) history[2] = norm;
      history[3] = norm;
    },
    metrics: () => ({ bits }),
    buffers: () => [buffer],
  };
}
