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
 * "late" is measured by the step and by how far the gradient norm has fallen. The widths of a run
 * with budget `B` are planned as a ramp rising from `B − δ` to `B + δ`,
 * `δ = min(B − minBits, maxBits − B)`, re-planned at every exchange from what is left. For the
 * `c`-th exchange (from 0), at step `k` of `K`, with `spent` the bits per value spent so far:
 *
 * 1. exchanges expected after this one, the rate so far extrapolated:
 *    `r = ⌊(c + 1)(K − 1 − k)/(k + 1)⌋` (exactly `K − 1 − k` for a base that exchanges every step,
 *    `⌊(K − 1 − k)/τ⌋` for one that exchanges every `τ` steps); in all `E = c + 1 + r`;
 * 2. the available mean, what the budget leaves for each exchange still to come, this one
 *    included: `A = (B·E − spent)/(1 + r)`;
 * 3. the remaining `1 + r` exchanges as an evenly rising ramp of mean `A` and the whole run's
 *    slope, `2δ/E` per exchange: this one, its foot, is `A − h` with `h = δ(1 − π)·r/E`, where
 *    `π = min(1, log2(‖ḡ_first‖/‖ḡ_min‖)/4)` counts the halvings of the averaged vector's norm
 *    since the first exchange to its smallest so far (four halvings: `π = 1`, a flat ramp, every
 *    exchange still to come at `A`), so a gradient that shrinks moves bits earlier;
 * 4. `b = round(A − h)`, held to `[minBits, min(maxBits, ⌊A⌋)]`.
 *
 * Why the mean meets the budget without starving the end: an exchange never takes more than `A`,
 * so the next available mean `(B·E − spent − b)/r ≥ (B·E − spent − A)/r = A` never falls (for
 * exchanges every step or every `τ` steps, where `r` drops by exactly one per exchange); `h`
 * never rises (`r/E` falls and `‖ḡ_min‖` only falls); so `A − h` and `⌊A⌋` never fall, and
 * neither does the width. The last exchange (`r = 0`, `h = 0`) takes `⌊A⌋`, everything left (an
 * integer budget is spent exactly, a fractional one up to less than a bit in all), unless that is
 * above `maxBits`. With the norm unchanged the widths climb the whole ramp (for the defaults and
 * 100 steps, 2 to 6); with the norm falling they climb sooner and end lower. The rule that came
 * before subtracted the overspend divided by the exchanges still expected, a divisor that shrinks
 * to 1, and so paid an early overspend back in the last exchanges, the ones that matter most.
 * (When the outer algorithm skips some of a base's exchanges, `r` is an estimate, corrected at
 * every exchange from the count so far, and the argument above is approximate.)
 *
 * Every quantity is one every rank knows identically (the step, the count, the bits it chose,
 * the norms of means every rank decoded), so every rank chooses the same width. The chosen width
 * is reported as `bits` in the step's metrics; the state (`spent`, the count, the first and the
 * smallest norms) is the buffer `dqSgd.state`.
 *
 * @module
 */

import type { DqSgdNode } from "../../dsl/plan.ts";
import type { StateBuffer } from "../state.ts";
import { dequantizeInto, quantize, quantizedMean } from "./qsgd.ts";
import type { CodecCore, CompressorOptions } from "./types.ts";

/** What the width rule reads: the shared history of the run. */
export interface DqSgdHistory {
  /** Bits per value spent so far, summed over exchanges. */
  readonly spentBits: number;
  /** Exchanges so far. */
  readonly exchanges: number;
  /** Norm of the first averaged vector (0 before it). */
  readonly firstNorm: number;
  /** Smallest norm of the averaged vectors so far (0 before the first). */
  readonly smallestNorm: number;
}

/**
 * The bit width of the exchange at step `k` (see the module).
 *
 * @param node The `dqSgd` node.
 * @param k The step, from 0.
 * @param steps The plan's steps `K`.
 * @param history The shared history.
 * @returns An integer in `[minBits, maxBits]`.
 * @example The first of 101 exchanges is the ramp's foot, `B − δ`; the last takes what is left
 * ```ts
 * import assert from "node:assert/strict";
 * import { dqSgdBits } from "./dq_sgd.ts";
 * import { dqSgd } from "../../dsl/compressors/mod.ts";
 *
 * const node = dqSgd({ minBits: 2, maxBits: 8, budgetBits: 4 });
 * const fresh = { spentBits: 0, exchanges: 0, firstNorm: 0, smallestNorm: 0 };
 * assert.equal(dqSgdBits(node, 0, 101, fresh), 2);
 * const last = { spentBits: 398, exchanges: 100, firstNorm: 16, smallestNorm: 1 };
 * assert.equal(dqSgdBits(node, 100, 101, last), 6); // 4·101 − 398
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
  const c = history.exchanges;
  // A hair above the exact quotients, so a float quotient just below an integer floors to it.
  const EPS = 1e-9;
  const after = Math.max(0, Math.floor((c + 1) * (steps - 1 - k) / (k + 1) + EPS));
  const expected = c + 1 + after;
  const available = (budget * expected - history.spentBits) / (1 + after);
  const halvings = history.firstNorm > 0 && history.smallestNorm > 0
    ? Math.log2(history.firstNorm / history.smallestNorm)
    : 0;
  const fallen = Math.min(1, Math.max(0, halvings / 4));
  const foot = available - delta * (1 - fallen) * after / expected;
  const ceiling = Math.min(maxBits, Math.floor(available + EPS));
  return Math.max(minBits, Math.min(ceiling, Math.round(foot)));
}

/**
 * The DQ-SGD codec for vectors of `d` values.
 *
 * @param node The `dqSgd` node.
 * @param options The vector length `d` and the plan's steps.
 * @returns The codec: QSGD at this step's width, with the shared history as its state.
 */
export function dqSgdCodec(node: DqSgdNode, { d, steps }: CompressorOptions): CodecCore {
  // [spent bits, exchanges, first norm, smallest norm]
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
        smallestNorm: history[3]!,
      });
      history[0]! += bits;
      history[1]! += 1;
      return quantize(values, levels(), node.bucket, random);
    },
    addDecoded(code, target, scale) {
      dequantizeInto(code, d, levels(), node.bucket, target, scale);
    },
    meanOf: (codes, n) => quantizedMean(codes, d, levels(), node.bucket, n),
    observeMean(mean) {
      let squares = 0;
      for (let j = 0; j < mean.length; j++) squares += mean[j]! * mean[j]!;
      const norm = Math.sqrt(squares);
      if (history[2] === 0) history[2] = history[3] = norm;
      else history[3] = Math.min(history[3]!, norm);
    },
    metrics: () => ({ bits }),
    buffers: () => [buffer],
  };
}
