/**
 * Ring all-reduce (reduce-scatter then all-gather), chunked and pipelined.
 *
 * The vector is split into `n` chunks, chunk `c` spanning `[⌊c·d/n⌋, ⌊(c+1)·d/n⌋)` (empty
 * chunks when d < n are skipped). There are `2(n−1)` steps; at step `t` rank `r` sends one
 * chunk to `r+1` and receives one from `r−1`:
 *
 * - reduce-scatter, `t < n−1`: send chunk `r−t`, receive chunk `r−t−1` and add it in;
 * - all-gather, `t' = t−(n−1)`: send chunk `r+1−t'`, receive chunk `r−t'` and copy it.
 *
 * Chunk `c` is therefore summed in ring order starting at rank `c`:
 * `((x_c + x_{c+1}) + x_{c+2}) + … + x_{c−1}` (each addition rounded to float32), ends complete
 * on rank `c−1`, and travels from there unchanged, so every rank holds bit-identical sums
 * whatever the transport.
 *
 * The all-gather's messages carry the next tag (`tag + 1`; the caller reserves both): they are
 * the only messages of that tag, and none can arrive before this rank has sent its first
 * segment (each is a sum this rank's own contribution went into), so their places in `out` are
 * posted at the start and a transport that can reads them straight there (`_receive_into.ts`).
 *
 * Pipelining: chunks travel in segments of `segmentFloats`. The chunk sent at step `t` is the
 * one received at step `t−1`, so segment `k` of step `t` leaves as soon as segment `k` of step
 * `t−1` has arrived and been reduced, while later segments are still in flight.
 *
 * @module
 */

import type { Phase, Transport } from "./types.ts";
import { bytesAsFloats, floatsAsBytes } from "./wire.ts";
import { recyclePayload } from "./_buffer_pool.ts";
import { isPlaced, receiveInto } from "./_receive_into.ts";
import { addInto } from "../kernels/vector_kernels.ts";

/**
 * Sums `out` over all ranks with the ring algorithm, in place.
 *
 * @param transport The transport (its rank and size define the ring).
 * @param tag The first of the two tags of this collective call (`tag` and `tag + 1`).
 * @param out This rank's vector, replaced by the sum (a buffer the caller owns).
 * @param phase Traffic phase.
 * @param segmentFloats Floats per message.
 * @returns `out`, holding the element-wise sum, identical on every rank.
 */
export async function ringAllReduceSum(
  transport: Transport,
  tag: number,
  out: Float32Array,
  phase: Phase,
  segmentFloats: number,
): Promise<Float32Array> {
  const n = transport.size;
  if (n === 1) return out;
  const r = transport.rank;
  const d = out.length;
  const next = (r + 1) % n;
  const prev = (r + n - 1) % n;
  const chunkStart = (c: number) => Math.floor(c * d / n);
  const segments = (c: number) => Math.ceil((chunkStart(c + 1) - chunkStart(c)) / segmentFloats);
  const steps = 2 * (n - 1);
  const sendChunk = (t: number) => mod(t < n - 1 ? r - t : r + 1 - (t - (n - 1)), n);
  const recvChunk = (t: number) => mod(t < n - 1 ? r - t - 1 : r - (t - (n - 1)), n);
  const span = (c: number, k: number): [number, number] => {
    const lo = chunkStart(c) + k * segmentFloats;
    return [lo, Math.min(lo + segmentFloats, chunkStart(c + 1))];
  };
  // Index of the first segment received at step t, counting segments over all steps.
  const firstReceived: number[] = [0];
  for (let t = 0; t < steps; t++) firstReceived.push(firstReceived[t]! + segments(recvChunk(t)));
  const gatherTag = tag + 1;
  const tagOf = (t: number) => t < n - 1 ? tag : gatherTag;
  const places: Uint8Array[] = [];
  for (let t = n - 1; t < steps; t++) {
    const c = recvChunk(t);
    for (let k = 0; k < segments(c); k++) places.push(floatsAsBytes(out.subarray(...span(c, k))));
  }
  const withdraw = receiveInto(transport, prev, gatherTag, places);

  const progress = new Progress();
  const sending = async () => {
    for (let t = 0; t < steps; t++) {
      const c = sendChunk(t);
      for (let k = 0; k < segments(c); k++) {
        if (t > 0) await progress.reach(firstReceived[t - 1]! + k + 1);
        const [lo, hi] = span(c, k);
        await transport.send(next, tagOf(t), floatsAsBytes(out.subarray(lo, hi)), phase);
      }
    }
  };
  const receiving = async () => {
    try {
      for (let t = 0; t < steps; t++) {
        const c = recvChunk(t);
        for (let k = 0; k < segments(c); k++) {
          const [lo, hi] = span(c, k);
          const payload = await transport.recv(prev, tagOf(t));
          const got = bytesAsFloats(payload);
          if (got.length !== hi - lo) {
            throw new Error(
              `All-reduce on worker ${r}: worker ${prev} sent ${got.length} values where ${
                hi - lo
              } were expected (do all ranks pass vectors of the same length?)`,
            );
          }
          const target = out.subarray(lo, hi);
          // A payload read into its place is `out` itself: no copy, and not the transport's to
          // recycle.
          const placed = t >= n - 1 && isPlaced(payload, floatsAsBytes(target));
          if (t < n - 1) addInto(target, got);
          else if (!placed) target.set(got);
          if (!placed) recyclePayload(transport, payload);
          progress.advance();
        }
      }
    } catch (error) {
      progress.abort(error);
      throw error;
    }
  };
  try {
    await Promise.all([sending(), receiving()]);
  } finally {
    withdraw();
  }
  return out;
}

/**
 * The bytes rank `r` sends and receives in {@linkcode ringAllReduceSum} of `d` floats: every
 * message's 12-byte header and payload, segment by segment. A collective that reaches the same
 * sums another way (shared memory) counts these, so runs compare across launches.
 *
 * @param r The rank.
 * @param n The ranks.
 * @param d The floats.
 * @param segmentFloats Floats per message.
 * @returns Bytes sent and received.
 * @example Two ranks, 8 floats, 4 per message: one message each way per step
 * ```ts
 * import assert from "node:assert/strict";
 * import { ringTraffic } from "./_ring.ts";
 * assert.deepEqual(ringTraffic(0, 2, 8, 4), { sent: 2 * (12 + 16), received: 2 * (12 + 16) });
 * ```
 */
export function ringTraffic(
  r: number,
  n: number,
  d: number,
  segmentFloats: number,
): { sent: number; received: number } {
  if (n === 1) return { sent: 0, received: 0 };
  const chunkStart = (c: number) => Math.floor(c * d / n);
  const bytes = (c: number) => {
    const length = chunkStart(c + 1) - chunkStart(c);
    return Math.ceil(length / segmentFloats) * 12 + 4 * length;
  };
  let sent = 0;
  let received = 0;
  for (let t = 0; t < 2 * (n - 1); t++) {
    sent += bytes(mod(t < n - 1 ? r - t : r + 1 - (t - (n - 1)), n));
    received += bytes(mod(t < n - 1 ? r - t - 1 : r - (t - (n - 1)), n));
  }
  return { sent, received };
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

/** A counter that the sending side waits on. */
class Progress {
  #count = 0;
  #error: unknown = null;
  #waiter: { target: number; resolve(): void; reject(error: unknown): void } | null = null;

  advance(): void {
    this.#count++;
    if (this.#waiter && this.#count >= this.#waiter.target) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.resolve();
    }
  }

  reach(target: number): Promise<void> {
    if (this.#count >= target) return Promise.resolve();
    if (this.#error !== null) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#waiter = { target, resolve, reject };
    });
  }

  abort(error: unknown): void {
    this.#error = error;
    this.#waiter?.reject(error);
    this.#waiter = null;
  }
}
