/**
 * Overlap Local-SGD: local SGD whose model average runs while the next period computes
 * (docs/algorithms.md §1.7).
 *
 * @module
 */

import type { OverlapLocalSgdNode } from "../../dsl/plan.ts";
import type { PendingAllReduce } from "../comm/types.ts";
import type { StepMetrics } from "../metrics.ts";
import type { BaseAlgorithm, BaseContext } from "./types.ts";
import { scalarBuffer } from "../state.ts";
import { checkSameLength, endsPeriod, moveInPlace } from "./_vector.ts";

/**
 * One synchronisation of Overlap Local-SGD, given the anchor `z` (the average that arrived):
 * pull back `x_i = (1 − α) x_i + α z`, then the vector to average next,
 * `send_i = x_i` when `β = 0`, else `b_i = β b_i + (z − x_i)/γ_k` and `send_i = z − γ_k b_i`.
 * Arithmetic in float64, each stored value rounded to float32 once.
 *
 * @param x The local model `x_i`, pulled back in place.
 * @param anchor The anchor `z`.
 * @param global The global buffer `b_i`, updated in place when `β > 0`.
 * @param settings `α`, `β` and the learning rate `γ_k` (positive when `β > 0`).
 * @returns The vector to all-reduce, a fresh float32 vector.
 * @throws {RangeError} When lengths differ, or `β > 0` with a learning rate that is not positive.
 * @example Pull back half-way, then send the pulled model
 * ```ts
 * import assert from "node:assert/strict";
 * import { overlapSync } from "./overlap_local_sgd.ts";
 *
 * const x = Float32Array.of(4);
 * const send = overlapSync(x, Float32Array.of(0), new Float32Array(1), {
 *   alpha: 0.5,
 *   beta: 0,
 *   lr: 0.1,
 * });
 * assert.deepEqual([...x], [2]);
 * assert.deepEqual([...send], [2]);
 * ```
 */
export function overlapSync(
  x: Float32Array,
  anchor: Float32Array,
  global: Float32Array,
  settings: { readonly alpha: number; readonly beta: number; readonly lr: number },
): Float32Array {
  checkSameLength(x, anchor, "the anchor");
  checkSameLength(x, global, "the global buffer");
  const { alpha, beta, lr } = settings;
  for (let t = 0; t < x.length; t++) x[t] = (1 - alpha) * x[t]! + alpha * anchor[t]!;
  if (beta === 0) return x.slice();
  if (!(lr > 0) || !Number.isFinite(lr)) {
    throw new RangeError(
      `Cannot run overlapLocalSgd with beta > 0: it divides by the learning rate, but the learning rate is "${lr}"`,
    );
  }
  const send = new Float32Array(x.length);
  for (let t = 0; t < x.length; t++) {
    global[t] = beta * global[t]! + (anchor[t]! - x[t]!) / lr;
    send[t] = anchor[t]! - lr * global[t]!;
  }
  return send;
}

/**
 * The `overlapLocalSgd({ tau, alpha, beta })` base (Wang, Liang, Joshi, "Overlap Local-SGD: an
 * algorithmic approach to hide communication delays in distributed SGD", ICASSP 2020). State:
 * local `x_i`, anchor `z = x_0`, global buffer `b_i = 0`. Every step `x_i −= γ_k dir_i(g_i)`.
 * After step `k` with `(k + 1) mod tau == 0`: wait for the all-reduce launched at the previous
 * sync point, if any, whose mean becomes `z`; then {@linkcode overlapSync}; then launch a
 * non-blocking all-reduce of `send_i` (phase `"base"`) and go on computing: its mean becomes `z`
 * at the next sync point. `finish()` waits for the last one.
 *
 * At every sync point the step reports `blockedMs` (how long it waited for the previous
 * all-reduce) and `allReduceMs` (how long that all-reduce took): when computation hides the
 * communication, the first is near zero while the second is not.
 *
 * Buffers: `overlapLocalSgd.x`, `overlapLocalSgd.global` (`b_i`, a momentum buffer),
 * `overlapLocalSgd.anchor`, and for checkpoints the average in flight (`overlapLocalSgd.inFlight`,
 * filled by `settle()`, with `overlapLocalSgd.hasInFlight`).
 *
 * Elastic TCP runs: the all-reduce launched after a sync point is awaited a period later, so a
 * worker lost meanwhile leaves it half done. `inFlightSince()` names the sync point that launched
 * it (the survivors go back to that step's start and launch it again over themselves), and
 * `hold()` keeps, with a snapshot taken at a step's start, the all-reduce then in flight: it
 * launched before that step, so every survivor has completed it by the time the run goes back
 * there, and the snapshot settles it as a checkpoint would.
 *
 * @param node The `overlapLocalSgd` node.
 * @param context The worker's communicator, `x_0`, optimizer and gradient oracle.
 * @returns The worker's base algorithm; `model()` returns a copy of `x_i`.
 */
export function overlapLocalSgdBase(
  node: OverlapLocalSgdNode,
  context: BaseContext,
): BaseAlgorithm {
  const { comm, optimizer, gradient } = context;
  const x = context.x0.slice();
  const anchor = context.x0.slice();
  const global = new Float32Array(x.length);
  // The gradient's buffer, reused every step: it is used up by the local move.
  const scratch = new Float32Array(x.length);
  let pending: PendingAllReduce | null = null;
  // The step that launched `pending`; `null` once it is known complete (restored already computed).
  let pendingSince: number | null = null;
  // For checkpoints: the average in flight, once settled, and whether there is one.
  const inFlight = new Float32Array(x.length);
  const hasInFlight = scalarBuffer("overlapLocalSgd.hasInFlight", 0);

  /** Waits for the average in flight, if any; it becomes the anchor. */
  const arrive = async (): Promise<StepMetrics> => {
    if (pending === null) return {};
    const waiting = performance.now();
    anchor.set(await pending.wait());
    const blockedMs = performance.now() - waiting;
    const allReduceMs = pending.elapsedMs() ?? blockedMs;
    pending = null;
    pendingSince = null;
    hasInFlight.data[0] = 0;
    return { blockedMs, allReduceMs };
  };

  return {
    async step(k, lr) {
      const { loss, grad } = await gradient(x, scratch);
      moveInPlace(x, lr, optimizer.direction(grad, x));
      if (!endsPeriod(k, node.tau)) return { loss };
      const metrics = await arrive();
      const send = overlapSync(x, anchor, global, { alpha: node.alpha, beta: node.beta, lr });
      pending = comm.allReduceMeanStart(send, "base");
      pendingSince = k;
      return { loss, metrics };
    },
    model: () => x.slice(),
    setModel(value) {
      checkSameLength(x, value, "the new model");
      x.set(value);
    },
    async finish() {
      await arrive();
    },
    async settle() {
      if (pending === null) return;
      inFlight.set(await pending.wait());
      hasInFlight.data[0] = 1;
    },
    restored() {
      // Whatever was in flight before is dropped (an elastic run's failed all-reduce).
      pending = null;
      pendingSince = null;
      // The average that was in flight at the checkpoint arrives, already computed.
      if (hasInFlight.data[0] !== 1) return;
      const average = inFlight.slice();
      pending = { wait: () => Promise.resolve(average), elapsedMs: () => 0 };
    },
    inFlightSince: () => pendingSince,
    hold() {
      const held = pending;
      return async (copy) => {
        copy.get(hasInFlight.name)!.fill(held === null ? 0 : 1);
        if (held !== null) copy.get("overlapLocalSgd.inFlight")!.set(await held.wait());
      };
    },
    buffers: () => [
      { name: "overlapLocalSgd.x", data: x, momentum: false },
      { name: "overlapLocalSgd.global", data: global, momentum: true },
      { name: "overlapLocalSgd.anchor", data: anchor, momentum: false },
      { name: "overlapLocalSgd.inFlight", data: inFlight, momentum: false },
      hasInFlight,
    ],
    resetMomentum() {
      global.fill(0);
    },
  };
}
