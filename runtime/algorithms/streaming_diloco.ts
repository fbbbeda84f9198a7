/**
 * Streaming DiLoCo: DiLoCo's outer step one fragment of the model at a time, overlapped with
 * computation, with quantized pseudo-gradients (docs/algorithms.md §2.4).
 *
 * @module
 */

import type { StreamingDilocoNode } from "../../dsl/plan.ts";
import {
  fragmentOfVariables,
  type FragmentSplit,
  STREAMING_CHUNK,
  streamingCodeBytes,
} from "../../dsl/outers/streaming_diloco.ts";
import type { Communicator } from "../comm/types.ts";
import { packBits, unpackBits } from "../compressors/_bits.ts";
import type { StepMetrics } from "../metrics.ts";
import { scalarBuffer } from "../state.ts";
import type { ModelHolder, OuterAlgorithm, StepContext } from "./types.ts";
import { outerStepAt } from "./diloco.ts";

/**
 * The flat coordinates of each fragment: whole variables (tensors) of the model, dealt by
 * `fragmentOfVariables` (strided: fragment `p` holds the variables `p, p + P, p + 2P, …`).
 *
 * @param variables The model's variable sizes, in order; they sum to `d`.
 * @param fragments `P`.
 * @param split How variables are dealt (default `"strided"`).
 * @returns For each fragment, its coordinates in increasing order.
 * @throws {RangeError} When there are more fragments than variables, or a size is not a
 *   positive integer.
 * @example Three variables of sizes 2, 1, 2 in two fragments
 * ```ts
 * import assert from "node:assert/strict";
 * import { fragmentCoordinates } from "./streaming_diloco.ts";
 * const [first, second] = fragmentCoordinates([2, 1, 2], 2);
 * assert.deepEqual([...first!], [0, 1, 3, 4]);
 * assert.deepEqual([...second!], [2]);
 * ```
 */
export function fragmentCoordinates(
  variables: readonly number[],
  fragments: number,
  split: FragmentSplit = "strided",
): Int32Array[] {
  if (fragments > variables.length) {
    throw new RangeError(
      `Cannot run streamingDiloco with ${fragments} fragments: the model has ${variables.length} variable${
        variables.length === 1 ? "" : "s"
      }, and a fragment is made of whole variables`,
    );
  }
  const lists: number[][] = Array.from({ length: fragments }, () => []);
  const owner = fragmentOfVariables(variables, fragments, split);
  let offset = 0;
  variables.forEach((size, j) => {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`Cannot run streamingDiloco: variable ${j} has size ${size}`);
    }
    for (let t = 0; t < size; t++) lists[owner[j]!]!.push(offset + t);
    offset += size;
  });
  return lists.map((list) => Int32Array.from(list));
}

/**
 * Which fragment synchronises after step `k`: fragment `p` when `k + 1 ≥ tau` and
 * `(k + 1 − p·tau/P) mod tau == 0`.
 *
 * @param k The step.
 * @param tau The period of each fragment (a multiple of `fragments`).
 * @param fragments `P`.
 * @returns The fragment, or `null` when none syncs after step `k`.
 * @example Four fragments every 8 steps: fragment 0 after step 7, then 1 after step 9, …
 * ```ts
 * import assert from "node:assert/strict";
 * import { syncingFragment } from "./streaming_diloco.ts";
 * const syncs = Array.from({ length: 16 }, (_, k) => syncingFragment(k, 8, 4));
 * assert.deepEqual(syncs.slice(0, 8), [null, null, null, null, null, null, null, 0]);
 * assert.deepEqual(syncs.slice(8), [null, 1, null, 2, null, 3, null, 0]);
 * ```
 */
export function syncingFragment(k: number, tau: number, fragments: number): number | null {
  if (k + 1 < tau) return null;
  const offset = (k + 1) % tau;
  const stride = tau / fragments;
  return offset % stride === 0 ? offset / stride : null;
}

/**
 * Encodes a pseudo-gradient at `bits` bits per value: per chunk of 128 values, a float32 scale
 * `s = max|Δ|/(2^{b−1} − 1)` and each value's code `round(Δ/s)` (half away from zero; all 0 when
 * `s = 0`). Layout: the chunks' scales as little-endian float32, then every code plus
 * `2^{b−1} − 1` as a `b`-bit unsigned integer, packed least significant bit first.
 *
 * @param delta The pseudo-gradient.
 * @param bits Bits per value, 2 to 16.
 * @returns `streamingCodeBytes(delta.length, bits)` bytes.
 * @example Four values at 4 bits: scale 0.7/7 = 0.1, codes 7, −3, 0, 1
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodePseudoGradient, encodePseudoGradient } from "./streaming_diloco.ts";
 * const code = encodePseudoGradient(Float64Array.of(0.7, -0.3, 0.04, 0.06), 4);
 * assert.equal(code.length, 4 + 2);
 * const back = decodePseudoGradient(code, 4, 4).map((x) => Math.round(x * 1e6) / 1e6);
 * assert.deepEqual([...back], [0.7, -0.3, 0, 0.1]);
 * ```
 */
export function encodePseudoGradient(delta: ArrayLike<number>, bits: number): Uint8Array {
  const count = delta.length;
  const chunks = Math.ceil(count / STREAMING_CHUNK);
  const top = (1 << (bits - 1)) - 1; // a small integer for V8 (`2 **` gives a double)
  const out = new Uint8Array(streamingCodeBytes(count, bits));
  const scales = new DataView(out.buffer);
  const codes = new Uint32Array(count);
  for (let c = 0; c < chunks; c++) {
    const lo = c * STREAMING_CHUNK;
    scales.setFloat32(
      4 * c,
      chunkCodes(delta, lo, Math.min(lo + STREAMING_CHUNK, count), top, codes),
      true,
    );
  }
  packBits(codes, bits, out, 4 * chunks);
  return out;
}

/**
 * One chunk of {@linkcode encodePseudoGradient}: writes the codes of `delta[lo, hi)` plus `top`
 * into `codes` and returns the chunk's float32 scale. A function of its own, called once per
 * chunk, so that V8 optimises it with the types it has seen (the whole vector's loop in one call
 * ran on on-stack replacement code that kept deoptimising, 3× slower).
 */
function chunkCodes(
  delta: ArrayLike<number>,
  lo: number,
  hi: number,
  top: number,
  codes: Uint32Array,
): number {
  let max = 0;
  for (let t = lo; t < hi; t++) max = Math.max(max, Math.abs(delta[t]!));
  const scale = Math.fround(max / top);
  if (scale === 0) {
    codes.fill(top, lo, hi);
    return scale;
  }
  for (let t = lo; t < hi; t++) {
    const ratio = delta[t]! / scale;
    // The code is `top + sign(ratio) · min(top, round(|ratio|))`, rounding half away from zero
    // (the float32 scale may leave |ratio| a hair above `top`), and 0 for a NaN. Written without
    // branches: each comparison here is a coin toss, which cost a branch predictor 4× the loop's
    // time (`Math.round` was slower still). Below `top`, |ratio| − its whole part is exact.
    const magnitude = Math.min(Math.abs(ratio), top);
    const whole = magnitude | 0;
    const rounded = whole + Number(magnitude - whole >= 0.5);
    const negative = Number(ratio < 0);
    codes[t] = ratio === ratio ? top + ((rounded ^ -negative) + negative) : 0;
  }
  return scale;
}

/**
 * Decodes {@linkcode encodePseudoGradient}'s bytes: each value is its code times its chunk's
 * float32 scale, in float64.
 *
 * @param bytes The code.
 * @param count Values encoded.
 * @param bits Bits per value.
 * @returns The decoded pseudo-gradient.
 * @throws {RangeError} When the code's length is not that of `count` values at `bits` bits.
 */
export function decodePseudoGradient(bytes: Uint8Array, count: number, bits: number): Float64Array {
  const expected = streamingCodeBytes(count, bits);
  if (bytes.length !== expected) {
    throw new RangeError(
      `A streamingDiloco code of ${count} values at ${bits} bits has ${expected} bytes, not ${bytes.length}`,
    );
  }
  const chunks = Math.ceil(count / STREAMING_CHUNK);
  const top = (1 << (bits - 1)) - 1; // a small integer for V8 (`2 **` gives a double)
  const scales = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const codes = unpackBits(bytes, bits, count, 4 * chunks);
  const out = new Float64Array(count);
  for (let c = 0; c < chunks; c++) {
    const scale = scales.getFloat32(4 * c, true);
    const hi = Math.min((c + 1) * STREAMING_CHUNK, count);
    for (let t = c * STREAMING_CHUNK; t < hi; t++) out[t] = (codes[t]! - top) * scale;
  }
  return out;
}

/** The mean pseudo-gradient of a sync and the bytes this worker sent for it. */
interface SyncResult {
  /** `avg_i(Δ_i)` over the fragment's coordinates, float64. */
  readonly delta: Float64Array;
  /** Bytes this worker wrote for the sync, frame headers included. */
  readonly bytes: number;
}

/** A fragment's sync in flight: started after one step, applied after `applyAt`. */
interface InFlight {
  readonly fragment: number;
  readonly applyAt: number;
  /** The step that started it; `null` when known complete (restored already computed). */
  readonly since: number | null;
  /** Resolves once the collective completed; memoized, so settling and applying share it. */
  readonly result: Promise<SyncResult>;
}

/**
 * Starts a fragment's sync: snapshots the fragment of `model`, then either all-reduces it in
 * float32 (`bits: 32`, the mean pseudo-gradient is `θ_p − x̄_p`) or all-gathers each worker's
 * quantized `Δ_i = θ_p − x_{i,p}` and averages the decoded codes in rank order in float64.
 */
function startSync(
  comm: Communicator,
  node: StreamingDilocoNode,
  coordinates: Int32Array,
  global: Float64Array,
  model: Float32Array,
): Promise<SyncResult> {
  const count = coordinates.length;
  const sentBefore = comm.stats().sent.outer;
  const bytesSince = () => comm.stats().sent.outer - sentBefore;
  if (node.bits === 32) {
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = model[coordinates[i]!]!;
    const pending = comm.allReduceMeanStart(values, "outer");
    return pending.wait().then((average) => {
      const delta = new Float64Array(count);
      for (let i = 0; i < count; i++) delta[i] = global[coordinates[i]!]! - average[i]!;
      return { delta, bytes: bytesSince() };
    });
  }
  const mine = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const t = coordinates[i]!;
    mine[i] = global[t]! - model[t]!;
  }
  const pending = comm.allGatherStart(encodePseudoGradient(mine, node.bits), "outer");
  return pending.wait().then((codes) => {
    const delta = new Float64Array(count);
    codes.forEach((code, rank) => {
      let decoded: Float64Array;
      try {
        decoded = decodePseudoGradient(code, count, node.bits);
      } catch (error) {
        throw new Error(
          `streamingDiloco on worker ${comm.rank}: worker ${rank} sent a bad code: ${
            (error as Error).message
          }`,
        );
      }
      for (let i = 0; i < count; i++) delta[i]! += decoded[i]!;
    });
    for (let i = 0; i < count; i++) delta[i]! /= codes.length;
    return { delta, bytes: bytesSince() };
  });
}

/**
 * The `streamingDiloco({ tau, fragments, overlap, mix, bits, lr, momentum, nesterov })` outer
 * algorithm (Douillard et al., "Streaming DiLoCo with overlapping communication", 2025).
 *
 * State, float64 and full length, each fragment using its own coordinates: `θ` (starts at
 * `x_0`) and `m = 0`. After step `k`, first the sync in flight, if due (`k` is its start plus
 * `overlap`), is applied: with its mean pseudo-gradient `Δ`, `m_p = μ m_p + Δ`,
 * `θ_p −= lr · (nesterov ? Δ + μ m_p : m_p)`; then the fragment of every worker becomes `θ_p`
 * (`overlap: 0`, exactly DiLoCo's restart) or `α x_{i,p} + (1 − α) θ_p` (`overlap > 0`: the
 * local coordinates kept training meanwhile), rounded to float32 once. Then, when fragment `p`
 * syncs after step `k` ({@linkcode syncingFragment}), its collective starts on phase `"outer"`
 * from a snapshot of the fragment ({@linkcode startSync}); with `overlap: 0` it is applied at
 * once. The inner optimizer's state is kept (DiLoCo's default). At most one sync is in flight
 * (the plan checks `overlap < tau/P`); one started too late to be applied before the run ends
 * is waited for by `finish()` and dropped.
 *
 * Step metrics, on the step a sync is applied: `syncedFragment` (its `p`) and `syncBytes` (the
 * bytes this worker wrote for it, frame headers included).
 *
 * Buffers: `streamingDiloco.global` and `streamingDiloco.momentum`; for checkpoints, the sync in
 * flight once settled: `streamingDiloco.inFlight` (its mean pseudo-gradient at its fragment's
 * coordinates), `streamingDiloco.inFlightFragment` (−1 when none), `.inFlightApplyAt` and
 * `.inFlightBytes`.
 *
 * Elastic TCP runs: a lost worker can leave the sync in flight half done. `inFlightSince()`
 * names the step that started it (the survivors go back to that step's start and start it
 * again over themselves), and `hold()` keeps, with a snapshot taken at a step's start, the sync
 * then in flight: it started before that step, so every survivor has completed it by the time
 * the run goes back there, and the snapshot settles it as a checkpoint would.
 *
 * @param node The `streamingDiloco` node.
 * @param context The worker's communicator, `x_0` and the model's variable sizes.
 * @returns The worker's outer algorithm.
 * @throws {RangeError} When the model has fewer variables than fragments.
 */
export function streamingDilocoOuter(
  node: StreamingDilocoNode,
  context: StepContext,
): OuterAlgorithm {
  const { comm } = context;
  const d = context.x0.length;
  const variables = context.variables;
  const total = variables.reduce((sum, size) => sum + size, 0);
  if (total !== d) {
    throw new RangeError(
      `Cannot run streamingDiloco: the model's variables hold ${total} values, not its ${d} parameters`,
    );
  }
  const fragments = fragmentCoordinates(variables, node.fragments, node.split);
  const global = Float64Array.from(context.x0);
  const momentum = new Float64Array(d);
  const inFlight = new Float64Array(d);
  const inFlightFragment = scalarBuffer("streamingDiloco.inFlightFragment", -1);
  const inFlightApplyAt = scalarBuffer("streamingDiloco.inFlightApplyAt", 0);
  const inFlightBytes = scalarBuffer("streamingDiloco.inFlightBytes", 0);
  let pending: InFlight | null = null;
  let metrics: StepMetrics = {};

  /** The outer step on fragment `p` and the merge of every worker's fragment. */
  const apply = (p: number, result: SyncResult, base: ModelHolder) => {
    const coordinates = fragments[p]!;
    const { mix } = node;
    const x = base.model();
    for (let i = 0; i < coordinates.length; i++) {
      const t = coordinates[i]!;
      outerStepAt(global, momentum, t, result.delta[i]!, node);
      x[t] = node.overlap === 0 ? global[t]! : mix * x[t]! + (1 - mix) * global[t]!;
    }
    base.setModel(x);
    metrics = { syncedFragment: p, syncBytes: result.bytes };
  };

  return {
    async afterStep(k, _lr, base) {
      metrics = {};
      if (pending !== null && pending.applyAt === k) {
        const due = pending;
        // In flight until it arrives: a failure leaves it pending, for inFlightSince().
        const result = await due.result;
        pending = null;
        inFlightFragment.data[0] = -1;
        apply(due.fragment, result, base);
      }
      const p = syncingFragment(k, node.tau, node.fragments);
      if (p === null) return;
      const result = startSync(comm, node, fragments[p]!, global, base.model());
      // Nobody may await it for a while: its failure is reported when it is awaited.
      result.catch(() => {});
      pending = { fragment: p, applyAt: k + node.overlap, since: k, result };
      if (node.overlap === 0) {
        const done = await result;
        pending = null;
        apply(p, done, base);
      }
    },
    metrics: () => metrics,
    async finish() {
      if (pending !== null) await pending.result;
      pending = null; // too late to be applied: dropped
    },
    async settle() {
      if (pending === null) return;
      const { fragment, applyAt, result } = pending;
      const { delta, bytes } = await result;
      const coordinates = fragments[fragment]!;
      for (let i = 0; i < coordinates.length; i++) inFlight[coordinates[i]!] = delta[i]!;
      inFlightFragment.data[0] = fragment;
      inFlightApplyAt.data[0] = applyAt;
      inFlightBytes.data[0] = bytes;
    },
    restored() {
      // Whatever was in flight before is dropped (an elastic run's failed sync).
      const fragment = inFlightFragment.data[0]!;
      if (fragment < 0) {
        pending = null;
        return;
      }
      // The sync in flight at the checkpoint arrives, already computed.
      const coordinates = fragments[fragment]!;
      const delta = new Float64Array(coordinates.length);
      for (let i = 0; i < coordinates.length; i++) delta[i] = inFlight[coordinates[i]!]!;
      pending = {
        fragment,
        applyAt: inFlightApplyAt.data[0]!,
        since: null,
        result: Promise.resolve({ delta, bytes: inFlightBytes.data[0]! }),
      };
    },
    inFlightSince: () => pending?.since ?? null,
    hold() {
      const held = pending;
      return async (copy) => {
        copy.get(inFlightFragment.name)!.fill(held === null ? -1 : held.fragment);
        if (held === null) return;
        const { delta, bytes } = await held.result;
        const coordinates = fragments[held.fragment]!;
        const values = copy.get("streamingDiloco.inFlight")!;
        for (let i = 0; i < coordinates.length; i++) values[coordinates[i]!] = delta[i]!;
        copy.get(inFlightApplyAt.name)!.fill(held.applyAt);
        copy.get(inFlightBytes.name)!.fill(bytes);
      };
    },
    buffers: () => [
      { name: "streamingDiloco.global", data: global, momentum: false },
      { name: "streamingDiloco.momentum", data: momentum, momentum: false },
      { name: "streamingDiloco.inFlight", data: inFlight, momentum: false },
      inFlightFragment,
      inFlightApplyAt,
      inFlightBytes,
    ],
    resetMomentum() {},
  };
}
