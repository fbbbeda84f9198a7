/**
 * The state an algorithm owns between steps, exposed by name: every part of the step (local
 * optimizer, base, compressor, outer) lists its buffers, so buffer policies at synchronisation
 * points and, later, checkpoints reach all of them without knowing which algorithm runs.
 *
 * @module
 */

/** One state buffer, live: writing into `data` changes the algorithm's state. */
export interface StateBuffer {
  /** Owner and role, e.g. `"sgd.velocity"`, `"adam.m"`, `"slowMo.momentum"`, `"topK.residual"`. */
  readonly name: string;
  /** The values (float64 where the algorithm accumulates across many steps). */
  readonly data: Float32Array | Float64Array;
  /**
   * A momentum-like buffer of the step, which buffer policies (`"reset"`, `"average"`) act on at
   * synchronisation points; `false` for everything else (counts, anchors, residuals).
   */
  readonly momentum: boolean;
  /**
   * This worker's own accumulation of what it has not sent yet (error feedback's residual,
   * Sketched SGD's `u_i` and `v_i`), as opposed to state every worker holds alike. A worker that
   * joins an elastic run starts it at zero rather than taking the donor's: a copy would send the
   * donor's unsent part twice. Absent: `false`.
   */
  readonly perWorker?: boolean;
}

/** Something that owns state buffers. */
export interface Stateful {
  /** Every buffer it owns, live, in a fixed order. */
  buffers(): readonly StateBuffer[];
  /**
   * Zeroes the momentum buffers and restarts whatever counts them (Adam's bias-correction
   * count), for the `"reset"` buffer policy.
   */
  resetMomentum(): void;
}

/**
 * A float64 scalar as a one-value buffer (a step count, a push-sum weight), so scalar state is
 * listed like any other.
 *
 * @param name The buffer's name.
 * @param value The initial value.
 * @returns A buffer that is not subject to buffer policies.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scalarBuffer } from "./state.ts";
 * const count = scalarBuffer("adam.count", 0);
 * count.data[0]! += 1;
 * assert.ok(count.data[0] === 1 && !count.momentum);
 * ```
 */
export function scalarBuffer(name: string, value: number): StateBuffer & { data: Float64Array } {
  return { name, data: Float64Array.of(value), momentum: false };
}
