/**
 * All-reduce through shared memory for workers that live in one process (thread workers), as
 * NCCL reduces within a node without the network: every rank copies its vector into its slot of
 * a `SharedArrayBuffer`, each rank sums its share of the elements over all slots into a shared
 * result, and every rank copies the result out.
 *
 * Vectors go through in pieces of a slot each, pipelined over two sets of slots so that one
 * barrier (on `Atomics`) per piece is enough: between two barriers a rank sums its share of
 * piece `p` (in set `p mod 2`), copies piece `p + 1` in (into the other set, which everyone
 * finished summing before the last barrier) and copies piece `p − 1`'s result out (complete
 * since the last barrier). Pieces of 512 KiB per rank keep both sets in the cache.
 *
 * The sums are bit-identical to the ring all-reduce of `_ring.ts`: element `j` of ring chunk `c`
 * is summed in ring order starting at rank `c`, `((x_c + x_{c+1}) + …) + x_{c−1}`, each addition
 * rounded to float32, whichever rank does the summing. So a run gives the same parameters
 * whether its all-reduces go through memory or through sockets.
 *
 * A group can also be one host's part of a larger run (`first` names its first rank): then
 * {@linkcode SharedReducer.sumAcrossGroups} is the hierarchical all-reduce, as NCCL does across
 * nodes: the group's sum in shared memory, the sum across groups by the group's first rank
 * (over TCP, in `communicator.ts`), and that result handed to the group through shared memory.
 * A first rank whose part between groups fails marks the group failed, so the ranks waiting for
 * its result fail with the same peer instead of waiting.
 *
 * A barrier first waits synchronously (`Atomics.wait`), for a few milliseconds at most: most
 * barriers open well within that, and a futex wake-up costs far less CPU and latency than a turn
 * of the event loop. A longer wait goes asynchronous (`Atomics.waitAsync`), so the waiting thread
 * keeps serving its event loop (heartbeats, other collectives); every rank also ticks a liveness
 * counter, so a rank that died is named instead of waited for forever. Ranks that share a thread
 * (tests) never block, since the rank they wait for could not run.
 *
 * @module
 */

import { type ArenaKernels, arenaKernels, createKernelMemory } from "../kernels/vector_kernels.ts";
import { PeerError } from "./types.ts";

/** Control words. */
const COUNT = 0;
const GENERATION = 1;
/** 0 while healthy; else 1 + the rank whose failure stopped the group (`sumAcrossGroups`). */
const FAILED = 2;
/** Words before the per-rank arrays: count, generation, failed. */
const HEADER_WORDS = 3;

/**
 * How long a barrier waits synchronously before it goes asynchronous, ms: long enough for most
 * barriers (the ranks' work between two barriers takes about a millisecond), short enough that
 * the event loop is never held up for long.
 */
const BLOCKING_WAIT_MS = 5;

/**
 * The ranks of each group that live in this thread, by the group's control memory: ranks in one
 * thread must not block waiting for each other.
 */
const ranksHere = new WeakMap<SharedArrayBuffer, number>();

/** Shared memory of one group of co-located ranks; postMessage shares it between threads. */
export interface SharedArena {
  /** Number of ranks. */
  readonly size: number;
  /**
   * The run's rank of the group's first rank: the group holds ranks `first … first + size − 1`
   * (absent: 0, and the group is usually the whole run).
   */
  readonly first?: number;
  /** Floats per rank's slot (a longer vector goes through in pieces). */
  readonly slotFloats: number;
  /**
   * Two sets of `size` slots and a result each, `2 · (size + 1) · slotFloats` floats (or more:
   * whole pages).
   */
  readonly data: SharedArrayBuffer;
  /**
   * The WebAssembly memory whose buffer `data` is, where the vector kernels run: they then sum
   * the slots where they lie (`runtime/kernels/vector_kernels.ts`).
   */
  readonly memory?: WebAssembly.Memory;
  /** Barrier words, then each rank's arrival generation, then each rank's liveness tick. */
  readonly control: SharedArrayBuffer;
}

/**
 * Floats per slot by default: 128 Ki floats (512 KiB), so that both sets of slots stay in the
 * cache (at 4 ranks, 5 MiB). On the 2-core machine, 64 MiB all-reduces took 10–20% more CPU time
 * with 1 MiB slots and 15–40% more with the former single set of 4 MiB slots; 256 KiB slots took
 * as little CPU but more barriers.
 */
export const DEFAULT_SLOT_FLOATS = 128 * 1024;

/**
 * Allocates the shared memory of a group.
 *
 * @param size Number of ranks.
 * @param slotFloats Floats per slot.
 * @param first The run's rank of the group's first rank (a host's part of a larger run).
 * @returns The arena, to hand to every rank.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSharedArena } from "./shared_reduce.ts";
 * const arena = createSharedArena(2, 8);
 * assert.ok(arena.data.byteLength >= 2 * 3 * 8 * 4); // whole 64 KiB pages for the vector kernels
 * ```
 */
export function createSharedArena(
  size: number,
  slotFloats = DEFAULT_SLOT_FLOATS,
  first = 0,
): SharedArena {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`Group size ${size} is not valid`);
  if (!Number.isInteger(slotFloats) || slotFloats < 1) {
    throw new RangeError(`Slot of ${slotFloats} floats is not valid`);
  }
  if (!Number.isInteger(first) || first < 0) {
    throw new RangeError(`A group cannot start at rank ${first}`);
  }
  const bytes = 2 * (size + 1) * slotFloats * 4;
  const memory = createKernelMemory(bytes);
  return {
    size,
    ...(first === 0 ? {} : { first }),
    slotFloats,
    data: memory === null ? new SharedArrayBuffer(bytes) : memory.buffer as SharedArrayBuffer,
    ...(memory === null ? {} : { memory }),
    control: new SharedArrayBuffer((HEADER_WORDS + 2 * size) * 4),
  };
}

/** Options of {@linkcode SharedReducer}. */
export interface SharedReducerOptions {
  /** A rank that has not ticked for this long while others wait is dead (default 20 s). */
  readonly timeoutMs?: number;
}

/** One rank's side of a shared-memory all-reduce. */
export class SharedReducer {
  readonly #arena: SharedArena;
  readonly #rank: number;
  readonly #size: number;
  readonly #first: number;
  /** The two sets of slots, each with its result. */
  readonly #sets: readonly SlotSet[];
  readonly #control: Int32Array;
  readonly #timeoutMs: number;
  /** The vector kernels over the arena's memory, or `null` for the JavaScript loops. */
  readonly #kernels: ArenaKernels | null;
  readonly #ticker: ReturnType<typeof setInterval>;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  /**
   * Joins a group.
   *
   * @param arena The group's shared memory.
   * @param rank This rank's place in the group, `0..size−1` (its rank in the run less `first`).
   * @param options The liveness timeout.
   */
  constructor(arena: SharedArena, rank: number, options: SharedReducerOptions = {}) {
    if (!Number.isInteger(rank) || rank < 0 || rank >= arena.size) {
      throw new RangeError(`Rank ${rank} is not in a group of ${arena.size}`);
    }
    this.#arena = arena;
    this.#rank = rank;
    this.#size = arena.size;
    this.#first = arena.first ?? 0;
    this.#sets = [0, 1].map((set) => {
      const base = set * (arena.size + 1) * arena.slotFloats * 4;
      const at = (r: number) =>
        new Float32Array(arena.data, base + r * arena.slotFloats * 4, arena.slotFloats);
      return {
        base,
        slots: Array.from({ length: arena.size }, (_, r) => at(r)),
        result: at(arena.size),
      };
    });
    this.#control = new Int32Array(arena.control);
    ranksHere.set(arena.control, (ranksHere.get(arena.control) ?? 0) + 1);
    this.#kernels = arenaKernels(arena.memory);
    this.#timeoutMs = options.timeoutMs ?? 20_000;
    // Liveness: a tick every quarter timeout, from this thread's event loop.
    const tick = () => Atomics.add(this.#control, this.#tickIndex(rank), 1);
    tick();
    this.#ticker = setInterval(tick, Math.max(10, Math.min(1000, this.#timeoutMs / 4)));
    Deno.unrefTimer(this.#ticker);
  }

  /** Number of ranks in the group. */
  get groupSize(): number {
    return this.#size;
  }

  /** The run's rank of the group's first rank. */
  get first(): number {
    return this.#first;
  }

  /** This rank's place in the group. */
  get groupRank(): number {
    return this.#rank;
  }

  /** Stops this rank's liveness ticks. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#ticker);
    ranksHere.set(this.#arena.control, (ranksHere.get(this.#arena.control) ?? 1) - 1);
  }

  /**
   * Sums `out` over the group's ranks, in place, bit-identical to the ring all-reduce. Every
   * rank of the group must call it, in the same order as its other calls.
   *
   * @param out This rank's vector; replaced by the sum.
   * @returns `out`.
   * @throws {PeerError} When a rank stopped ticking while the others waited for it.
   */
  sumInPlace(out: Float32Array): Promise<Float32Array> {
    const next = this.#queue.then(() => this.#sum(out));
    this.#queue = next.catch(() => {});
    return next;
  }

  /**
   * The hierarchical all-reduce: sums `out` over the group, lets the group's first rank turn
   * that into the sum over every group (`across`, given the group's sum in place), and hands its
   * result to the rest of the group. Every rank of the group calls it, in the same order as its
   * other calls; `across` runs on the first rank only.
   *
   * @param out This rank's vector; replaced by the sum over all groups.
   * @param across On the first rank: replaces the group's sum by the sum over all groups.
   * @returns `out`.
   * @throws {PeerError} When a rank of the group stopped ticking, or `across` failed (on the
   * other ranks, naming the same peer).
   */
  sumAcrossGroups(
    out: Float32Array,
    across: (groupSum: Float32Array) => Promise<unknown>,
  ): Promise<Float32Array> {
    const next = this.#queue.then(async () => {
      await this.#sum(out);
      if (this.#rank === 0) {
        try {
          await across(out);
        } catch (error) {
          this.#fail(error instanceof PeerError ? error.peer : this.#first);
          throw error;
        }
      }
      return await this.#broadcast(out);
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Marks the group failed because of `peer`, and wakes the ranks waiting in a barrier. */
  #fail(peer: number): void {
    Atomics.compareExchange(this.#control, FAILED, 0, peer + 1);
    Atomics.notify(this.#control, GENERATION);
  }

  /** Copies the first rank's `out` into every other rank's, piece by piece. */
  async #broadcast(out: Float32Array): Promise<Float32Array> {
    const slot = this.#arena.slotFloats;
    // Slots are read only by sums, and every rank's last sum was before the last barrier.
    const shared = this.#sets[0]!.slots[0]!;
    for (let p0 = 0; p0 < out.length; p0 += slot) {
      const piece = out.subarray(p0, Math.min(p0 + slot, out.length));
      if (this.#rank === 0) shared.set(piece);
      await this.#barrier();
      if (this.#rank !== 0) piece.set(shared.subarray(0, piece.length));
      // Nobody writes the next piece (or the next call's vector) before all have read this one.
      await this.#barrier();
    }
    return out;
  }

  /**
   * The pipeline of the module's comment: piece `p` goes in before barrier `p − 1` (counting
   * from −1), is summed before barrier `p` and goes out after it.
   */
  async #sum(out: Float32Array): Promise<Float32Array> {
    const n = this.#size;
    const d = out.length;
    if (n === 1 || d === 0) return out;
    const slot = this.#arena.slotFloats;
    const pieces = Math.ceil(d / slot);
    const span = (p: number) => [p * slot, Math.min((p + 1) * slot, d)] as const;
    const copyIn = (p: number) =>
      this.#sets[p % 2]!.slots[this.#rank]!.set(out.subarray(...span(p)));
    const copyOut = (p: number) => {
      const [p0, p1] = span(p);
      out.set(this.#sets[p % 2]!.result.subarray(0, p1 - p0), p0);
    };
    copyIn(0);
    await this.#barrier();
    for (let p = 0; p < pieces; p++) {
      // This rank's share of the piece's elements, summed in each element's ring order.
      const [p0, p1] = span(p);
      const lo = p0 + Math.floor(this.#rank * (p1 - p0) / n);
      const hi = p0 + Math.floor((this.#rank + 1) * (p1 - p0) / n);
      this.#reduce(this.#sets[p % 2]!, lo, hi, p0, d);
      if (p + 1 < pieces) copyIn(p + 1);
      if (p > 0) copyOut(p - 1);
      await this.#barrier();
    }
    copyOut(pieces - 1);
    return out;
  }

  /**
   * Sums elements `[lo, hi)` (global indices; the piece starts at `p0`) of `set`'s slots into
   * its result.
   */
  #reduce(set: SlotSet, lo: number, hi: number, p0: number, d: number): void {
    const n = this.#size;
    const { slots, result } = set;
    // The ring's chunk c spans [⌊c·d/n⌋, ⌊(c+1)·d/n⌋) and is summed starting at rank c.
    let c = Math.min(n - 1, Math.floor(lo * n / d));
    while (c > 0 && Math.floor(c * d / n) > lo) c--;
    while (Math.floor((c + 1) * d / n) <= lo) c++;
    let start = lo;
    while (start < hi) {
      const end = Math.min(hi, Math.floor((c + 1) * d / n));
      if (this.#kernels !== null) {
        // The same order in one pass, where the slots lie (slot r at byte base + r·slot, then
        // the result).
        const at = set.base + (start - p0) * 4;
        const stride = this.#arena.slotFloats * 4;
        this.#kernels.ringSum(n * stride + at, at, stride, n, c, end - start);
        start = end;
        c++;
        continue;
      }
      // The first addition reads both operands from the slots (one pass fewer over the result).
      const first = slots[c]!;
      const second = slots[(c + 1) % n]!;
      for (let j = start - p0; j < end - p0; j++) result[j] = first[j]! + second[j]!;
      for (let k = 2; k < n; k++) {
        const add = slots[(c + k) % n]!;
        for (let j = start - p0; j < end - p0; j++) result[j] = result[j]! + add[j]!;
      }
      start = end;
      c++;
    }
  }

  /** Index of rank `r`'s arrival generation. */
  #arrivalIndex(r: number): number {
    return HEADER_WORDS + r;
  }

  /** Index of rank `r`'s liveness tick. */
  #tickIndex(r: number): number {
    return HEADER_WORDS + this.#size + r;
  }

  /** Waits until every rank of the group has arrived. */
  async #barrier(): Promise<void> {
    const control = this.#control;
    this.#throwIfFailed();
    const generation = Atomics.load(control, GENERATION);
    Atomics.store(control, this.#arrivalIndex(this.#rank), generation + 1);
    if (Atomics.add(control, COUNT, 1) === this.#size - 1) {
      Atomics.store(control, COUNT, 0);
      Atomics.add(control, GENERATION, 1);
      Atomics.notify(control, GENERATION);
      return;
    }
    if (this.#waitBlocking(generation)) return;
    let lastTicks = this.#ticks();
    let lastChange = performance.now();
    while (Atomics.load(control, GENERATION) === generation) {
      if (this.#closed) throw new Error("The shared-memory group was closed");
      this.#throwIfFailed();
      const waited = Atomics.waitAsync(control, GENERATION, generation, 250);
      if (waited.async) {
        // Deno does not count a pending waitAsync as work: a timer keeps the thread alive.
        let keepAlive: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          waited.value,
          new Promise((resolve) => keepAlive = setTimeout(resolve, 300)),
        ]);
        clearTimeout(keepAlive);
      }
      // A rank that has not arrived and has stopped ticking is gone.
      const ticks = this.#ticks();
      const now = performance.now();
      const missing = this.#missing(generation);
      if (missing.some((r) => ticks[r] !== lastTicks[r])) {
        lastTicks = ticks;
        lastChange = now;
      } else if (now - lastChange > this.#timeoutMs && missing.length > 0) {
        throw new PeerError(
          this.#first + missing[0]!,
          `stopped answering in a shared-memory all-reduce (no sign of life for ${this.#timeoutMs} ms)`,
        );
      }
    }
  }

  /**
   * Waits for the barrier of `generation` to open, blocking this thread for
   * {@linkcode BLOCKING_WAIT_MS} at most; false when it has not opened (or this thread may not
   * block: the main thread of a browser, or another rank of the group lives in this thread).
   */
  #waitBlocking(generation: number): boolean {
    if (ranksHere.get(this.#arena.control) !== 1) return false;
    try {
      Atomics.wait(this.#control, GENERATION, generation, BLOCKING_WAIT_MS);
    } catch {
      return false; // this thread may not block
    }
    return Atomics.load(this.#control, GENERATION) !== generation;
  }

  /** A group marked failed by its first rank fails every barrier, naming the same peer. */
  #throwIfFailed(): void {
    const failed = Atomics.load(this.#control, FAILED);
    if (failed === 0) return;
    throw new PeerError(
      failed - 1,
      `failed in the all-reduce between hosts (as worker ${this.#first} of this host found)`,
    );
  }

  /** The ranks that have not arrived at the barrier of `generation`. */
  #missing(generation: number): number[] {
    const missing: number[] = [];
    for (let r = 0; r < this.#size; r++) {
      if (Atomics.load(this.#control, this.#arrivalIndex(r)) <= generation) missing.push(r);
    }
    return missing;
  }

  /** Every rank's liveness tick. */
  #ticks(): number[] {
    return Array.from(
      { length: this.#size },
      (_, r) => Atomics.load(this.#control, this.#tickIndex(r)),
    );
  }
}

/** One set of slots in the arena, and the result they are summed into. */
interface SlotSet {
  /** Byte offset of the set's first slot in the arena. */
  readonly base: number;
  readonly slots: readonly Float32Array[];
  readonly result: Float32Array;
}
