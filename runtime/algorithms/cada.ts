/**
 * CADA, communication-adaptive distributed Adam (docs/algorithms.md §4.1; Chen, Guo, Sun, Yin,
 * "CADA: communication-adaptive distributed Adam", AISTATS 2021).
 *
 * @module
 */

import type { CadaNode } from "../../dsl/plan.ts";
import { bytesAsFloats, floatsAsBytes } from "../comm/wire.ts";
import { scalarBuffer, type StateBuffer } from "../state.ts";
import { adamDirection, type AdamSettings, clipByNorm } from "./optimizers.ts";
import type { BaseAlgorithm, BaseContext } from "./types.ts";
import { checkSameLength, moveInPlace } from "./_vector.ts";

/** The server's rank: the hub of the star, also a worker. */
export const CADA_SERVER = 0;

/** The buffers only the server has (a worker joining an elastic run takes none of them). */
export const CADA_SERVER_BUFFERS: readonly string[] = [
  "cada.gradient",
  "cada.h",
  "cada.v",
  "cada.vMax",
  "cada.received",
  "cada.over",
];

/**
 * The skip threshold `T_k = (c/dMax) Σ_{j=1..dMax} ‖θ^{k+1−j} − θ^{k−j}‖²`.
 *
 * @param c The threshold constant.
 * @param changes The squared model changes remembered, at most `dMax` (missing ones count as 0).
 * @param dMax How many changes the sum runs over.
 * @returns `T_k`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cadaThreshold } from "./cada.ts";
 *
 * assert.equal(cadaThreshold(0.5, Float64Array.of(2, 4), 4), 0.5 / 4 * 6);
 * ```
 */
export function cadaThreshold(c: number, changes: Float64Array, dMax: number): number {
  let sum = 0;
  for (const change of changes) sum += change;
  return c / dMax * sum;
}

/** `‖a − b‖²` in float64. */
function squaredDistance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let t = 0; t < a.length; t++) sum += (a[t]! - b[t]!) ** 2;
  return sum;
}

/** The `cada` base, with the server's view for tests and diagnostics. */
export interface CadaBase extends BaseAlgorithm {
  /** The step of this worker's last upload; −1 before the first. */
  lastUpload(): number;
}

/**
 * The `cada({ variant, c, dMax, maxDelay, beta1, beta2, eps, amsgrad })` base in
 * parameter-server form over a star, rank 0 being the server and also a worker. Every rank
 * holds the same iterate `θ^k` at the start of step `k` (`x_0` at step 0). At step `k` worker
 * `m`:
 *
 * 1. takes `g_new = ∇ℓ(θ^k; ξ_m^k)` (plus the plain-SGD optimizer's weight decay, `decay`: the
 *    workers do not clip);
 * 2. decides whether to upload: always before its first upload, when its staleness
 *    `k − (last upload)` reached `maxDelay`, or when `c = 0` (every worker uploads every step);
 *    otherwise when a gradient change exceeds `T_k`, measured with a second gradient on the same
 *    batch at a reference iterate, so the batch's own noise cancels:
 *    - CADA2: `‖g_new − ∇ℓ(θ_last; ξ_m^k)‖² > T_k`, `θ_last` the iterate of its last upload;
 *    - CADA1 (the paper's rule 7): with a snapshot `θ̃`, `a_k = g_new − ∇ℓ(θ̃; ξ_m^k)` is
 *      compared with the same quantity `a_last` at its last upload (its iterate and its batch):
 *      `‖a_k − a_last‖² > T_k`. The snapshot is refreshed to `θ^k` every `maxDelay` steps, and
 *      every worker uploads at those steps, so `a_last` always refers to the current snapshot
 *      (it is 0 right after a refresh);
 * 3. uploads `δ = g_new − Σ(its earlier uploads)` to the server by a gather (phase `"base"`);
 *    a skipped upload is an empty message, one frame header and no gradient bytes. Subtracting
 *    the float64 sum of what it really sent, not its last gradient, keeps the server's sum equal
 *    to its latest gradient up to one float32 rounding instead of drifting by one per upload.
 *
 * The server adds `(1/n) Σ δ` to its aggregated gradient `∇` (float64, a telescoping sum), runs
 * Adam without bias correction on it (on `∇` scaled by `min(1, c / ‖∇‖₂)` when the optimizer has
 * `clipNorm: c`: the aggregated gradient is clipped, as `allReduce` clips the mean gradient),
 * `h = β1 h + (1−β1) ∇`, `v = β2 v + (1−β2) ∇²`,
 * `v̂ = amsgrad ? max(v̂, v) : v`, `θ −= γ_k h / (sqrt(v̂) + eps)`, and broadcasts `θ^{k+1}`
 * (phase `"base"`). Every rank then records `‖θ^{k+1} − θ^k‖²`, so all of them derive the same
 * threshold from the iterates they all receive, without the server sending it.
 *
 * Elastic runs (`.elastic`): the server also keeps each worker's upload sum `S_m` (float64, the
 * same sum as that worker's `cada.uploaded`). When the members change (a worker left), before
 * folding that step's uploads in it forms `∇ = (1/|M|) Σ_{m ∈ M} S_m` anew over the members `M`
 * (ascending rank), dropping the lost worker's stale gradient, and divides later uploads by `|M|`.
 * The server itself never leaves: the DSL refuses to declare it, and over TCP its loss ends the
 * run. A worker that joins again (over TCP) starts with no uploads (`chain.ts`'s
 * `joinerBuffers`: the server's iterate and threshold history, `S_m = 0`, its first step
 * uploads its full gradient), and the server clears its slot `S_m` when it joins (the lost
 * worker's stale sum goes), so `∇` is formed anew at the next step over the members with the
 * joiner's sum 0, before its first upload adds its gradient: the server's sum and every
 * worker's `cada.uploaded` agree again.
 *
 * With `c = 0` this is `allReduce()` with `adam({ biasCorrection: false, amsgrad })`
 * (docs/algorithms.md §5.9), with the same `weightDecay` and `clipNorm`. Clipping at the server
 * rather than in each worker keeps that identity, and leaves the upload rule comparing the
 * gradients the workers really computed. Step metrics: `uploaded` (whether this worker uploaded),
 * `staleness` (the age in steps of its gradient in the server's sum after the step, 0 when it
 * uploaded) and `threshold` (`T_k`).
 *
 * Buffers (none is a momentum buffer: cada takes no outer algorithm, so no buffer policy reaches
 * it): on every rank `cada.theta` (the iterate), `cada.uploaded` (float64 sum of its uploads), `cada.reference` (the
 * reference iterate: CADA2's last upload's, CADA1's snapshot), with CADA1 `cada.lastChange`
 * (`a_last`), `cada.changes` (the last `dMax` squared model changes, newest first) and
 * `cada.lastUpload`; on the server `cada.gradient` (float64 `∇`), `cada.h`, `cada.v`, with
 * AMSGrad `cada.vMax`, and in elastic runs `cada.received` (float64 `S_m`, `n · d` values by rank)
 * and `cada.over` (1 for each rank `∇` is a mean over), so a rewind restores them with `∇`.
 *
 * @param node The `cada` node.
 * @param context The worker's communicator, `x_0`, optimizer (plain SGD) and gradient oracle.
 * @returns The worker's base algorithm; `model()` returns a copy of `θ`.
 */
export function cadaBase(node: CadaNode, context: BaseContext): CadaBase {
  const { comm, optimizer, gradient } = context;
  const { clipNorm } = context.plan.optimizer;
  const d = context.x0.length;
  const n = comm.size;
  // Elastic plans: the server keeps each worker's uploads apart, to drop a lost worker's.
  const elastic = (context.plan.elastic ?? null) !== null;
  const isServer = comm.rank === CADA_SERVER;
  let theta: Float32Array = context.x0.slice();
  const uploaded = new Float64Array(d);
  const reference = context.x0.slice();
  const lastChange = node.variant === 1 ? new Float32Array(d) : null;
  const changes = new Float64Array(node.dMax);
  const lastUpload = scalarBuffer("cada.lastUpload", -1);
  const server = isServer
    ? {
      gradient: new Float64Array(d),
      h: new Float32Array(d),
      v: new Float32Array(d),
      vMax: node.amsgrad ? new Float32Array(d) : null,
      received: elastic ? new Float64Array(n * d) : null,
      over: elastic ? Float64Array.from({ length: n }, () => 1) : null,
    }
    : null;
  const adam: AdamSettings = {
    beta1: node.beta1,
    beta2: node.beta2,
    eps: node.eps,
    biasCorrection: false,
    amsgrad: node.amsgrad,
    weightDecay: 0,
  };
  const fixed: StateBuffer[] = [
    { name: "cada.uploaded", data: uploaded, momentum: false },
    { name: "cada.reference", data: reference, momentum: false },
    ...(lastChange === null
      ? []
      : [{ name: "cada.lastChange", data: lastChange, momentum: false }]),
    { name: "cada.changes", data: changes, momentum: false },
    lastUpload,
    ...(server === null ? [] : [
      { name: "cada.gradient", data: server.gradient, momentum: false },
      { name: "cada.h", data: server.h, momentum: false },
      { name: "cada.v", data: server.v, momentum: false },
      ...(server.vMax === null ? [] : [{ name: "cada.vMax", data: server.vMax, momentum: false }]),
      ...(server.received === null ? [] : [
        { name: "cada.received", data: server.received, momentum: false },
        { name: "cada.over", data: server.over!, momentum: false },
      ]),
    ]),
  ];

  /** Whether step `k` refreshes CADA1's snapshot (every worker then uploads). */
  const refreshes = (k: number) => node.variant === 1 && k > 0 && k % node.maxDelay === 0;

  /**
   * Step 2: whether this worker uploads at step `k`, given its fresh gradient; CADA1's change
   * `a_k` is kept in `lastChange` when it uploads.
   */
  async function uploads(k: number, fresh: Float32Array, threshold: number): Promise<boolean> {
    const last = lastUpload.data[0]!;
    if (node.c === 0) return true;
    if (refreshes(k)) {
      reference.set(theta);
      lastChange!.fill(0);
      return true;
    }
    if (last < 0 || k - last >= node.maxDelay) {
      if (lastChange !== null) lastChange.set(await changeFromSnapshot(fresh));
      return true;
    }
    if (lastChange === null) {
      const at = await gradient(reference);
      return squaredDistance(fresh, optimizer.decay(at.grad, reference)) > threshold;
    }
    const change = await changeFromSnapshot(fresh);
    if (squaredDistance(change, lastChange) <= threshold) return false;
    lastChange.set(change);
    return true;
  }

  /** CADA1's `a_k = g_new − ∇ℓ(θ̃; ξ_m^k)`, on this step's batch. */
  async function changeFromSnapshot(fresh: Float32Array): Promise<Float32Array> {
    const at = await gradient(reference);
    const old = optimizer.decay(at.grad, reference);
    const change = new Float32Array(d);
    for (let t = 0; t < d; t++) change[t] = fresh[t]! - old[t]!;
    return change;
  }

  /**
   * Elastic runs, on the server: when the members changed since `∇` was last formed, forms it
   * anew as the float64 mean of the members' upload sums `S_m` (ascending rank), so a lost
   * worker's stale gradient leaves the aggregate and the mean is over the live workers.
   */
  function regroup(members: readonly number[]): void {
    const state = server!;
    const over = state.over!;
    if (
      members.length === over.reduce((sum, bit) => sum + bit, 0) &&
      members.every((rank) => over[rank] === 1)
    ) return;
    over.fill(0);
    state.gradient.fill(0);
    for (const rank of members) {
      over[rank] = 1;
      const sum = state.received!.subarray(rank * d, (rank + 1) * d);
      for (let t = 0; t < d; t++) state.gradient[t]! += sum[t]!;
    }
    for (let t = 0; t < d; t++) state.gradient[t] = state.gradient[t]! / members.length;
  }

  /** The server's side of step 3: fold the uploads in; returns `θ` after one Adam step. */
  function serverUpdate(codes: readonly Uint8Array[], lr: number): Float32Array {
    const state = server!;
    // The gather returns the members' entries in member order (every rank outside elastic runs).
    const members = comm.members;
    if (state.received !== null) regroup(members);
    for (const [index, code] of codes.entries()) {
      if (code.length === 0) continue;
      const rank = members[index]!;
      const delta = bytesAsFloats(code);
      if (delta.length !== d) {
        throw new Error(
          `CADA server: worker ${rank} uploaded ${delta.length} values where ${d} were expected`,
        );
      }
      for (let t = 0; t < d; t++) state.gradient[t]! += delta[t]! / members.length;
      const sum = state.received?.subarray(rank * d, (rank + 1) * d);
      if (sum !== undefined) { for (let t = 0; t < d; t++) sum[t]! += delta[t]!; }
    }
    const aggregated = Float32Array.from(state.gradient);
    const { direction, moments } = adamDirection(
      adam,
      { m: state.h, v: state.v, vMax: state.vMax },
      clipNorm === undefined ? aggregated : clipByNorm(aggregated, clipNorm),
      theta,
      0,
    );
    state.h.set(moments.m);
    state.v.set(moments.v);
    if (state.vMax !== null) state.vMax.set(moments.vMax!);
    const next = theta.slice();
    moveInPlace(next, lr, direction);
    return next;
  }

  return {
    async step(k, lr) {
      const threshold = cadaThreshold(node.c, changes, node.dMax);
      const { loss, grad } = await gradient(theta);
      const fresh = optimizer.decay(grad, theta);
      const upload = await uploads(k, fresh, threshold);
      let payload: Uint8Array = new Uint8Array(0);
      if (upload) {
        const delta = new Float32Array(d);
        for (let t = 0; t < d; t++) {
          delta[t] = fresh[t]! - uploaded[t]!;
          uploaded[t]! += delta[t]!;
        }
        payload = floatsAsBytes(delta);
        lastUpload.data[0] = k;
        if (node.variant === 2) reference.set(theta);
      }
      const codes = await comm.gather(payload, CADA_SERVER, "base");
      // Other ranks pass their own θ only for its length: the broadcast overwrites it.
      const updated = codes === null ? theta : serverUpdate(codes, lr);
      const next = await comm.broadcast(updated, CADA_SERVER, "base");
      changes.copyWithin(1, 0);
      changes[0] = squaredDistance(next, theta);
      theta = next;
      return {
        loss,
        metrics: { uploaded: upload, staleness: k - lastUpload.data[0]!, threshold },
      };
    },
    model: () => theta.slice(),
    setModel(value) {
      checkSameLength(theta, value, "the new model");
      theta = value.slice();
    },
    lastUpload: () => lastUpload.data[0]!,
    joining(joiners) {
      const received = server?.received ?? null;
      if (received === null) return;
      for (const rank of joiners) received.fill(0, rank * d, (rank + 1) * d);
    },
    // θ is replaced every step, so the list is built when asked.
    buffers: () => [{ name: "cada.theta", data: theta, momentum: false }, ...fixed],
    resetMomentum() {},
  };
}
