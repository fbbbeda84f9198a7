/**
 * The one implementation of {@linkcode Communicator}: every collective is written once, over
 * the {@linkcode Transport} interface, so the memory and TCP transports run the same code and
 * give bit-identical results.
 *
 * Tags: each collective call takes the next value of a per-communicator counter (an all-reduce
 * the next two), synchronously when it is called, and uses it for all its messages. Since every rank calls the same
 * collectives in the same order, the tags agree across ranks, and collectives that run at the
 * same time (a non-blocking all-reduce beside gossip exchanges) never mix their messages. The
 * communicator owns the tag space of its transport.
 *
 * Algorithms and their traffic per rank (d floats, n ranks, 12-byte header per message):
 * - `allReduceSum`: ring reduce-scatter + all-gather (see `_ring.ts`), pipelined in segments
 *   of 1 MiB; each rank sends and receives about `2(n−1)/n · 4d` bytes. When every rank lives
 *   in this process, through shared memory instead (`shared_reduce.ts`), with the same sums and
 *   the ring's bytes counted. When the ranks come in equal groups of consecutive ranks, one
 *   group per process (thread workers on several hosts), hierarchically: the group's sum in
 *   shared memory, a ring of the groups' first ranks over the transport, the result handed back
 *   through shared memory. Between `G` groups each first rank then sends and receives about
 *   `2(G−1)/G · 4d` bytes, the other ranks nothing, and only those bytes are counted (they are
 *   the only ones written to a socket); the sums are the ring's over the groups' sums, so they
 *   differ from a flat ring's in the last bits.
 * - `allReduceMean`: the ring sum, then each element divided by `n` (a correctly rounded
 *   float32 division, the same on every rank).
 * - `broadcast`: the root sends the vector to every other rank directly (a star, like a
 *   parameter server), in the same segments.
 * - `allGather`: every rank sends its bytes to every other rank directly, in one message.
 * - `gather`: every rank sends its bytes to the root in one message.
 * - `barrier`: a dissemination barrier, ⌈log2 n⌉ rounds of empty messages in phase `control`.
 * - `neighborExchange`: one message per outgoing neighbour, all sends and receives at once;
 *   `neighborExchangeBytes` the same for bytes (codes), sent as they are.
 *
 * With one rank nothing is sent. A message to oneself (a self-loop in a neighbour exchange)
 * is delivered locally and not counted.
 *
 * Membership (elastic runs): {@linkcode Communicator.setMembers} narrows every collective to some
 * of the run's ranks (`members`, ascending, this rank among them). The all-reduces run the ring
 * over the members in their order, exactly as a run of `members.length` ranks would (same sums,
 * same bytes per member), and the mean divides by the member count; all-gather and gather return
 * the members' entries in member order; broadcast and gather take a member as root; the barrier
 * waits for the members; a neighbour exchange may only name members. Ranks stay the run's ranks
 * everywhere (`rank`, `size`, roots, neighbours), and no message goes to or is awaited from a
 * rank outside the members. The shared-memory and hierarchical all-reduces need every rank of
 * their group, so over a strict subset the all-reduce takes the transport's ring over the
 * members instead (a lost thread worker leaves its group's shared slots unfilled).
 *
 * @module
 */

import { recyclePayload } from "./_buffer_pool.ts";
import { ringAllReduceSum, ringTraffic } from "./_ring.ts";
import { checkMembers } from "./_members.ts";
import { subTransport } from "./_sub_transport.ts";
import type { SharedReducer } from "./shared_reduce.ts";
import { TrafficCounter } from "./_traffic.ts";
import {
  type Communicator,
  type Outgoing,
  type OutgoingBytes,
  type PendingAllGather,
  type PendingAllReduce,
  type Phase,
  PHASES,
  type TrafficStats,
  type Transport,
} from "./types.ts";
import { bytesAsFloats, floatsAsBytes } from "./wire.ts";

/**
 * Default bytes per message of the segmented collectives (all-reduce, broadcast): 1 MiB. Measured
 * with `gossamer bench allreduce` on 64 MiB between worker processes (2 CPUs): 256 KiB segments
 * cost 10–15% more CPU per all-reduce than 1 MiB ones and reached 0.89–0.97 GB/s bus bandwidth at
 * 4 ranks against 0.98–1.03; 4 MiB saved a little more CPU but leaves a ring of large vectors
 * fewer segments to pipeline.
 */
export const DEFAULT_SEGMENT_BYTES = 1024 * 1024;

/**
 * A communicator with in-place all-reduces, for callers that own a buffer to reduce into
 * (large models, benchmarks): no result vector is allocated.
 */
export interface InPlaceCommunicator extends Communicator {
  /**
   * Replaces `data` by the element-wise sum over ranks. Do not touch `data` until it resolves.
   *
   * @returns `data`.
   */
  allReduceSumInPlace(data: Float32Array, phase: Phase): Promise<Float32Array>;
  /**
   * Replaces `data` by the element-wise mean over ranks. Do not touch `data` until it resolves.
   *
   * @returns `data`.
   */
  allReduceMeanInPlace(data: Float32Array, phase: Phase): Promise<Float32Array>;
}

/** Options of {@linkcode createCommunicator}. */
export interface CommunicatorOptions {
  /**
   * Bytes per message of the segmented collectives, a positive multiple of 4
   * (default {@linkcode DEFAULT_SEGMENT_BYTES}).
   */
  readonly segmentBytes?: number;
  /**
   * The ranks of this rank's group live in this process and share its memory. A group of every
   * rank: the all-reduces go through it instead of the ring (bit-identical sums; the ring's bytes
   * are counted, so runs compare across launches). A group of consecutive ranks, one of equal
   * groups: the all-reduces are hierarchical (see the module's description).
   */
  readonly sharedReducer?: SharedReducer;
}

/**
 * Builds the collectives over a transport.
 *
 * @param transport The transport; the communicator owns its tags from now on.
 * @param options Segment size.
 * @returns The communicator of the transport's rank (a {@linkcode Communicator}, with in-place
 * all-reduces besides); its members are the transport's `members` when it has them.
 * @throws {RangeError} When the segment size is not a positive multiple of 4.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMemoryTransports } from "./memory_transport.ts";
 * const transports = createMemoryTransports(2);
 * const comms = transports.map((transport) => createCommunicator(transport));
 * const means = await Promise.all(
 *   comms.map((comm) => comm.allReduceMean(new Float32Array([comm.rank * 2]), "base")),
 * );
 * assert.deepEqual([...means[0]!], [1]);
 * await Promise.all(transports.map((transport) => transport.close()));
 * ```
 */
export function createCommunicator(
  transport: Transport,
  options: CommunicatorOptions = {},
): InPlaceCommunicator {
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (!Number.isInteger(segmentBytes) || segmentBytes < 4 || segmentBytes % 4 !== 0) {
    throw new RangeError(
      `Segment size must be a positive multiple of 4 bytes, got ${segmentBytes}`,
    );
  }
  const shared = options.sharedReducer ?? null;
  if (shared !== null) checkGroup(transport, shared);
  const comm = new RingCommunicator(transport, segmentBytes / 4, shared);
  // A mesh over some ranks has links to those only: its collectives must keep to them from the
  // first call (and, over a strict subset, leave shared memory aside as `setMembers` does).
  const members = transport.members;
  if (members !== undefined && members.length < transport.size) comm.setMembers(members);
  return comm;
}

/**
 * A shared-memory group must be the whole run, or one of equal groups of consecutive ranks that
 * holds this rank: the ring between groups runs over every group's first rank.
 */
function checkGroup(transport: Transport, shared: SharedReducer): void {
  const { rank, size } = transport;
  const { first, groupSize, groupRank } = shared;
  const where = `ranks ${first}..${first + groupSize - 1}`;
  if (first + groupRank !== rank) {
    throw new RangeError(`Rank ${rank} is not place ${groupRank} of the group of ${where}`);
  }
  if (size % groupSize !== 0 || first % groupSize !== 0) {
    throw new RangeError(
      `A shared-memory group of ${where} does not split ${size} ranks into equal groups of consecutive ranks`,
    );
  }
}

class RingCommunicator implements InPlaceCommunicator {
  readonly #transport: Transport;
  readonly #segmentFloats: number;
  readonly #shared: SharedReducer | null;
  /** The ring's bytes of the all-reduces that went through shared memory. */
  readonly #sharedTraffic = new TrafficCounter();
  /** Whether the all-reduces are hierarchical (a shared-memory group smaller than the run). */
  readonly #hierarchical: boolean;
  /** Hierarchical, on a group's first rank: the transport as the first ranks see it. */
  readonly #leaders: Transport | null;
  /** The ranks that take part in the collectives, ascending (default: all). */
  #members: readonly number[];
  /** The transport as the members see it, renumbered by position (the transport itself by default). */
  #view: Transport;
  #nextTag = 0;

  constructor(transport: Transport, segmentFloats: number, shared: SharedReducer | null) {
    this.#transport = transport;
    this.#segmentFloats = segmentFloats;
    this.#shared = shared;
    const groupSize = shared?.groupSize ?? transport.size;
    this.#hierarchical = groupSize < transport.size;
    this.#leaders = this.#hierarchical && shared!.groupRank === 0
      ? subTransport(
        transport,
        Array.from({ length: transport.size / groupSize }, (_, group) => group * groupSize),
      )
      : null;
    this.#members = Object.freeze(Array.from({ length: transport.size }, (_, rank) => rank));
    this.#view = transport;
  }

  get rank(): number {
    return this.#transport.rank;
  }

  get size(): number {
    return this.#transport.size;
  }

  get members(): readonly number[] {
    return this.#members;
  }

  setMembers(members: readonly number[]): void {
    this.#members = checkMembers(members, this.rank, this.size);
    this.#view = this.#members.length === this.size
      ? this.#transport
      : subTransport(this.#transport, this.#members);
  }

  /** Whether the members are fewer than the run's ranks. */
  get #narrowed(): boolean {
    return this.#members.length < this.size;
  }

  allReduceSum(data: Float32Array, phase: Phase): Promise<Float32Array> {
    return this.#call(phase, (tag) => this.#sumInPlace(tag, data.slice(), phase), 2);
  }

  allReduceMean(data: Float32Array, phase: Phase): Promise<Float32Array> {
    return this.#call(phase, (tag) => this.#meanInPlace(tag, data.slice(), phase), 2);
  }

  allReduceSumInPlace(data: Float32Array, phase: Phase): Promise<Float32Array> {
    return this.#call(phase, (tag) => this.#sumInPlace(tag, data, phase), 2);
  }

  allReduceMeanInPlace(data: Float32Array, phase: Phase): Promise<Float32Array> {
    return this.#call(phase, (tag) => this.#meanInPlace(tag, data, phase), 2);
  }

  allReduceMeanStart(data: Float32Array, phase: Phase): PendingAllReduce {
    const copy = data.slice();
    const start = performance.now();
    let elapsed: number | null = null;
    const result = this.#call(phase, (tag) => this.#meanInPlace(tag, copy, phase), 2);
    // Nobody may be waiting yet: a failure is reported by wait(), not as an unhandled rejection.
    result.then(() => elapsed = performance.now() - start, () => {});
    return { wait: () => result, elapsedMs: () => elapsed };
  }

  broadcast(data: Float32Array, root: number, phase: Phase): Promise<Float32Array> {
    return this.#call(phase, async (tag) => {
      this.#checkMember(root, "broadcast from");
      if (this.rank === root) {
        const sends = this.#others().map(async (to) => {
          for (let lo = 0; lo < data.length; lo += this.#segmentFloats) {
            const segment = data.subarray(lo, lo + this.#segmentFloats);
            await this.#transport.send(to, tag, floatsAsBytes(segment), phase);
          }
        });
        const copy = data.slice();
        await Promise.all(sends);
        return copy;
      }
      const out = new Float32Array(data.length);
      for (let lo = 0; lo < out.length; lo += this.#segmentFloats) {
        const expected = Math.min(this.#segmentFloats, out.length - lo);
        const payload = await this.#transport.recv(root, tag);
        const got = bytesAsFloats(payload);
        if (got.length !== expected) {
          throw new Error(
            `Broadcast on worker ${this.rank}: worker ${root} sent ${got.length} values where ${expected} were expected (do all ranks pass the same length?)`,
          );
        }
        out.set(got, lo);
        recyclePayload(this.#transport, payload);
      }
      return out;
    });
  }

  async neighborExchange(
    to: readonly Outgoing[],
    from: readonly number[],
    phase: Phase,
  ): Promise<Map<number, Float32Array>> {
    const outgoing = to.map(({ rank, data }) => ({ rank, data: floatsAsBytes(data) }));
    const received = await this.neighborExchangeBytes(outgoing, from, phase);
    return new Map([...received].map(([peer, bytes]) => [peer, bytesAsFloats(bytes)]));
  }

  neighborExchangeBytes(
    to: readonly OutgoingBytes[],
    from: readonly number[],
    phase: Phase,
  ): Promise<Map<number, Uint8Array>> {
    return this.#call(phase, async (tag) => {
      this.#checkMemberRanks(to.map((outgoing) => outgoing.rank), "send to");
      this.#checkMemberRanks(from, "receive from");
      const sends = to.map((outgoing) =>
        this.#transport.send(outgoing.rank, tag, outgoing.data, phase)
      );
      const receives = from.map(async (peer) =>
        [peer, await this.#transport.recv(peer, tag)] as const
      );
      const [, received] = await Promise.all([Promise.all(sends), Promise.all(receives)]);
      return new Map(received);
    });
  }

  allGather(data: Uint8Array, phase: Phase): Promise<Uint8Array[]> {
    return this.#call(phase, async (tag) => {
      const others = this.#others();
      // In the order of the members it started over (they may be narrowed while in flight).
      const position = this.#members.indexOf(this.rank);
      const sends = others.map((to) => this.#transport.send(to, tag, data, phase));
      const receives = others.map((peer) => this.#transport.recv(peer, tag));
      const mine = data.slice();
      const [, received] = await Promise.all([Promise.all(sends), Promise.all(receives)]);
      const all = [...received];
      all.splice(position, 0, mine);
      return all;
    });
  }

  allGatherStart(data: Uint8Array, phase: Phase): PendingAllGather {
    const start = performance.now();
    let elapsed: number | null = null;
    const result = this.allGather(data.slice(), phase);
    // Nobody may be waiting yet: a failure is reported by wait(), not as an unhandled rejection.
    result.then(() => elapsed = performance.now() - start, () => {});
    return { wait: () => result, elapsedMs: () => elapsed };
  }

  gather(data: Uint8Array, root: number, phase: Phase): Promise<Uint8Array[] | null> {
    return this.#call(phase, async (tag) => {
      this.#checkMember(root, "gather at");
      if (this.rank !== root) {
        await this.#transport.send(root, tag, data, phase);
        return null;
      }
      const mine = data.slice();
      const position = this.#members.indexOf(root);
      const received = await Promise.all(
        this.#others().map((peer) => this.#transport.recv(peer, tag)),
      );
      received.splice(position, 0, mine);
      return received;
    });
  }

  barrier(): Promise<void> {
    return this.#call("control", async (tag) => {
      // Over the members, renumbered by position: the barrier of a run of that many ranks.
      const view = this.#view;
      const { rank, size } = view;
      const empty = new Uint8Array(0);
      for (let distance = 1; distance < size; distance *= 2) {
        await Promise.all([
          view.send((rank + distance) % size, tag, empty, "control"),
          view.recv((rank - distance + size) % size, tag),
        ]);
      }
    });
  }

  stats(): TrafficStats {
    const own = this.#transport.stats();
    if (this.#shared === null || this.#hierarchical) return own;
    const shared = this.#sharedTraffic.snapshot();
    const add = (a: TrafficStats["sent"], b: TrafficStats["sent"]) =>
      Object.fromEntries(
        PHASES.map((phase) => [phase, a[phase] + b[phase]]),
      ) as TrafficStats["sent"];
    return { sent: add(own.sent, shared.sent), received: add(own.received, shared.received) };
  }

  /**
   * Takes the call's tags now (before any await) and runs the collective with the first:
   * `tags` consecutive tags, `tag … tag + tags − 1` (an all-reduce takes two, one per half of
   * the ring), never wrapping inside a call.
   */
  #call<T>(phase: Phase, run: (tag: number) => Promise<T>, tags = 1): Promise<T> {
    if (this.#nextTag + tags - 1 > 0xffffffff) this.#nextTag = 0;
    const tag = this.#nextTag;
    this.#nextTag = (this.#nextTag + tags) >>> 0;
    if (!PHASES.includes(phase)) {
      return Promise.reject(new RangeError(`Unknown traffic phase "${phase}"`));
    }
    return run(tag);
  }

  async #sumInPlace(tag: number, data: Float32Array, phase: Phase): Promise<Float32Array> {
    const shared = this.#shared;
    if (shared === null || this.#narrowed) {
      return await ringAllReduceSum(this.#view, tag, data, phase, this.#segmentFloats);
    }
    if (this.#hierarchical) {
      // The transport's byte counts are the ring between the groups' first ranks, the only
      // ranks that run `across`.
      return await shared.sumAcrossGroups(
        data,
        (groupSum) => ringAllReduceSum(this.#leaders!, tag, groupSum, phase, this.#segmentFloats),
      );
    }
    await shared.sumInPlace(data);
    const bytes = ringTraffic(this.rank, this.size, data.length, this.#segmentFloats);
    this.#sharedTraffic.sent(phase, bytes.sent);
    this.#sharedTraffic.received(phase, bytes.received);
    return data;
  }

  async #meanInPlace(tag: number, data: Float32Array, phase: Phase): Promise<Float32Array> {
    // Over the members it started over: an elastic run may narrow them while it is in flight.
    const n = this.#members.length;
    const sum = await this.#sumInPlace(tag, data, phase);
    if (n > 1) { for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! / n; }
    return sum;
  }

  /** The other members, in member order. */
  #others(): number[] {
    return this.#members.filter((rank) => rank !== this.rank);
  }

  #checkMember(rank: number, what: string): void {
    this.#checkRank(rank, what);
    if (this.#narrowed && !this.#members.includes(rank)) {
      throw new RangeError(
        `Cannot ${what} rank ${rank}: it is not a member (members are ${this.#members.join(", ")})`,
      );
    }
  }

  #checkMemberRanks(ranks: readonly number[], what: string): void {
    this.#checkRanks(ranks, what);
    for (const rank of ranks) this.#checkMember(rank, what);
  }

  #checkRank(rank: number, what: string): void {
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.size) {
      throw new RangeError(`Cannot ${what} rank ${rank}: ranks are 0..${this.size - 1}`);
    }
  }

  #checkRanks(ranks: readonly number[], what: string): void {
    const seen = new Set<number>();
    for (const rank of ranks) {
      this.#checkRank(rank, what);
      if (seen.has(rank)) throw new RangeError(`Cannot ${what} rank ${rank} twice in one exchange`);
      seen.add(rank);
    }
  }
}
