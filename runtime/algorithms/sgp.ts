/**
 * Stochastic Gradient Push, push-sum gossip over a column-stochastic, possibly directed,
 * topology (docs/algorithms.md §1.4).
 *
 * @module
 */

import type { SgpNode } from "../../dsl/plan.ts";
import { pushSumMatrix } from "../../topologies/mod.ts";
import { scalarBuffer } from "../state.ts";
import type { BaseAlgorithm, BaseContext } from "./types.ts";
import { checkSameLength, moved } from "./_vector.ts";
import { byTopologyPhase } from "./_periodic.ts";
import { overMembers, receivedFrom } from "./neighbours.ts";

/** One rank's column of the push-sum matrix `P(k)`, and who pushes to it. */
export interface PushSumShares {
  /** `P_ii`: the share a rank keeps. */
  readonly keep: number;
  /** Out-neighbours `j ≠ i` with `P_ji > 0` and the share `P_ji` each is sent. */
  readonly sendTo: readonly { readonly rank: number; readonly share: number }[];
  /** In-neighbours `j ≠ i` with `P_ij > 0`, ascending. */
  readonly receiveFrom: readonly number[];
}

/**
 * Reads rank `i`'s shares from a column-stochastic push-sum matrix `P` (receiver convention:
 * `P[j][i]` is the share of `i`'s mass that `j` receives).
 *
 * @param p The push-sum matrix of the step.
 * @param rank The rank `i`.
 * @returns What `i` keeps, sends and receives.
 * @throws {RangeError} When `rank` is not a row of `p`.
 * @example Rank 0 of a directed 3-cycle (0 → 1 → 2 → 0) keeps half
 * ```ts
 * import assert from "node:assert/strict";
 * import { pushSumShares } from "./sgp.ts";
 *
 * const p = [[0.5, 0, 0.5], [0.5, 0.5, 0], [0, 0.5, 0.5]];
 * assert.deepEqual(pushSumShares(p, 0), {
 *   keep: 0.5,
 *   sendTo: [{ rank: 1, share: 0.5 }],
 *   receiveFrom: [2],
 * });
 * ```
 */
export function pushSumShares(p: readonly (readonly number[])[], rank: number): PushSumShares {
  const row = p[rank];
  if (row === undefined) {
    throw new RangeError(
      `Cannot read push-sum shares: rank "${rank}" is outside 0..${p.length - 1}`,
    );
  }
  const sendTo: { rank: number; share: number }[] = [];
  const receiveFrom: number[] = [];
  for (let j = 0; j < p.length; j++) {
    if (j === rank) continue;
    const share = p[j]![rank]!;
    if (share > 0) sendTo.push({ rank: j, share });
    if (row[j]! > 0) receiveFrom.push(j);
  }
  return { keep: row[rank]!, sendTo, receiveFrom };
}

/**
 * The push-sum message `P_ji · [x_i, w_i]`: the scaled numerator with the scaled weight packed
 * as one extra float at the end.
 *
 * @param x The numerator `x_i`.
 * @param w The push-sum weight `w_i`.
 * @param share The share `P_ji`.
 * @returns `d + 1` floats.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pushSumMessage } from "./sgp.ts";
 *
 * assert.deepEqual([...pushSumMessage(new Float32Array([2, 4]), 1, 0.5)], [1, 2, 0.5]);
 * ```
 */
export function pushSumMessage(x: Float32Array, w: number, share: number): Float32Array {
  const out = new Float32Array(x.length + 1);
  for (let t = 0; t < x.length; t++) out[t] = share * x[t]!;
  out[x.length] = share * w;
  return out;
}

/**
 * Push-sum combination: `x_i = P_ii x_i + Σ_j (P_ij x_j)` and `w_i = P_ii w_i + Σ_j (P_ij w_j)`,
 * the received terms being the senders' already-scaled messages. Sums run in float64 in the
 * given order; `x_i` and `w_i` are rounded to float32 once, so on a regular graph with uniform
 * weights `w_i` stays exactly 1.
 *
 * @param x The numerator after the local step.
 * @param w The weight `w_i`.
 * @param keep `P_ii`.
 * @param received The messages received (`d + 1` floats each).
 * @returns The new numerator and weight.
 * @throws {RangeError} When a message does not have `d + 1` floats.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pushSumCombine } from "./sgp.ts";
 *
 * const { x, w } = pushSumCombine(new Float32Array([2]), 1, 0.5, [new Float32Array([1, 0.5])]);
 * assert.deepEqual([...x], [2]);
 * assert.equal(w, 1);
 * ```
 */
export function pushSumCombine(
  x: Float32Array,
  w: number,
  keep: number,
  received: readonly Float32Array[],
): { readonly x: Float32Array; readonly w: number } {
  const d = x.length;
  for (const message of received) {
    if (message.length !== d + 1) {
      throw new RangeError(
        `Length mismatch: a push-sum message has ${message.length} values but expected ${d + 1}`,
      );
    }
  }
  const out = new Float32Array(d);
  for (let t = 0; t < d; t++) {
    let sum = keep * x[t]!;
    for (const message of received) sum += message[t]!;
    out[t] = sum;
  }
  let weight = keep * w;
  for (const message of received) weight += message[d]!;
  return { x: out, w: Math.fround(weight) };
}

/**
 * The de-biased model `z_i = x_i / w_i`.
 *
 * @param x The numerator.
 * @param w The push-sum weight (positive).
 * @returns A fresh vector.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deBiased } from "./sgp.ts";
 *
 * assert.deepEqual([...deBiased(new Float32Array([1, 2]), 0.5)], [2, 4]);
 * ```
 */
export function deBiased(x: Float32Array, w: number): Float32Array {
  const z = new Float32Array(x.length);
  for (let t = 0; t < x.length; t++) z[t] = x[t]! / w;
  return z;
}

/**
 * The `sgp(topology)` base, Stochastic Gradient Push (Assran, Loizou, Ballas, Rabbat, ICML 2019,
 * Algorithm 1 with push-sum by Kempe et al. 2003). State: numerator `x_i` and weight `w_i = 1`.
 * Step `k`: `g_i` at `z_i = x_i / w_i`; `x_i −= γ_k · dir_i(g_i)`; send `P_ji · [x_i, w_i]` to
 * each out-neighbour `j` of the column-stochastic `P(k) = pushSumMatrix(topology, n, k)`
 * (phase `"base"`, `d + 1` floats) and keep the `P_ii` share; `x_i = Σ_j P_ij x_j`,
 * `w_i = Σ_j P_ij w_j`. The reported model is `z_i`; `setModel(x)` sets `x_i = x`, `w_i = 1`.
 * Weight decay, like the gradient, is taken at `z_i`.
 *
 * A worker that joins an elastic run again (over TCP) gets a share of the donor's mass, not a
 * copy (a copied weight would add mass and bias every `z`): with `J` joiners the donor keeps
 * `x/(J+1)` and `w/(J+1)` and hands each joiner the same, so `Σ x_j` and `Σ w_j` over the
 * members are conserved and the joiners start at the donor's `z`.
 *
 * @param node The `sgp` node.
 * @param context The worker's communicator, `x_0`, optimizer and gradient oracle.
 * @returns The worker's base algorithm, with a `weight()` accessor for `w_i` (also its buffer
 *   `sgp.weight`).
 * @throws {RangeError} When the topology does not fit the number of workers.
 */
export function sgpBase(node: SgpNode, context: BaseContext): BaseAlgorithm & { weight(): number } {
  const { comm, optimizer, gradient } = context;
  const n = comm.size;
  // Over the communicator's members: an elastic run's survivors push over the re-formed
  // topology. A lost worker's numerator and weight leave with it (nothing is handed on): the
  // survivors' weights then sum to n minus its weight, and push-sum over them (column-stochastic
  // among them) keeps Σ x_j and Σ w_j over the survivors, so their z_i reach Σ x_j / Σ w_j, the
  // survivors' models weighted by their push-sum weights when the worker left.
  const sharesAt = overMembers(node.topology, comm, (topology) =>
    byTopologyPhase(
      topology,
      n,
      (phase) => pushSumShares(pushSumMatrix(topology, n, phase), comm.rank),
    ));
  let x: Float32Array = context.x0.slice();
  // The gradient's buffer, reused every step: nothing keeps it past the step.
  const scratch = new Float32Array(x.length);
  const weight = scalarBuffer("sgp.weight", 1);
  return {
    async step(k, lr) {
      const w = weight.data[0]!;
      const z = deBiased(x, w);
      const { loss, grad } = await gradient(z, scratch);
      const half = moved(x, lr, optimizer.direction(grad, z));
      const { keep, sendTo, receiveFrom } = sharesAt(k);
      const messages = await comm.neighborExchange(
        sendTo.map(({ rank, share }) => ({ rank, data: pushSumMessage(half, w, share) })),
        receiveFrom,
        "base",
      );
      const next = pushSumCombine(half, w, keep, receivedFrom(messages, receiveFrom, "sgp"));
      x = next.x;
      weight.data[0] = next.w;
      return { loss };
    },
    model: () => deBiased(x, weight.data[0]!),
    setModel(value) {
      checkSameLength(x, value, "the new model");
      x = value.slice();
      weight.data[0] = 1;
    },
    weight: () => weight.data[0]!,
    joining(joiners, donor) {
      // The donor shares its push-sum mass: it keeps 1/(J+1) of its numerator and weight and
      // hands each of the J joiners the same share, so Σ x and Σ w over the members are what
      // they were and every joiner's z equals the donor's.
      if (comm.rank !== donor) return;
      const share = 1 / (joiners.length + 1);
      for (let t = 0; t < x.length; t++) x[t] = x[t]! * share;
      weight.data[0] = weight.data[0]! * share;
    },
    buffers: () => [{ name: "sgp.x", data: x, momentum: false }, weight],
    resetMomentum() {},
  };
}
