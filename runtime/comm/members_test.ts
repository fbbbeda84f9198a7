/**
 * Collectives over a membership (`Communicator.setMembers`): 4 ranks with members [0, 1, 3] give
 * the results of a 3-rank run over the members' inputs, bit for bit and byte for byte, and never
 * touch rank 2, on every transport (memory, TCP with rank 2's process gone, communication
 * threads, shared memory).
 *
 * @module
 */

import assert from "node:assert/strict";
import { createCommunicator } from "./communicator.ts";
import { ringTraffic } from "./_ring.ts";
import { ringOrderSum } from "./_ring_order.ts";
import { createMemoryTransports } from "./memory_transport.ts";
import { createSharedArena, SharedReducer } from "./shared_reduce.ts";
import { createLocalTcpTransports } from "./tcp_transport.ts";
import { startCommThread, type ThreadedCommunicator } from "./threaded_communicator.ts";
import type { Communicator, Phase, TrafficStats, Transport } from "./types.ts";

const MEMBERS = [0, 1, 3] as const;
const LOST = 2;
/** Small segments, so the ring and the broadcast send several messages per chunk. */
const SEGMENT_BYTES = 16;
const D = 23;

/** A transport that fails the test if rank {@linkcode LOST} is ever sent to or awaited. */
function guarded(transport: Transport): Transport {
  const check = (peer: number, what: string) => {
    if (peer === LOST) throw new Error(`Worker ${transport.rank} tried to ${what} rank ${LOST}`);
  };
  return {
    rank: transport.rank,
    size: transport.size,
    send(to: number, tag: number, payload: Uint8Array, phase: Phase) {
      check(to, "send to");
      return transport.send(to, tag, payload, phase);
    },
    recv(from: number, tag: number) {
      check(from, "receive from");
      return transport.recv(from, tag);
    },
    stats: () => transport.stats(),
    close: () => transport.close(),
  };
}

/** Rank `r`'s input: distinct, non-trivial floats, so the summation order shows in the bits. */
function input(rank: number): Float32Array {
  return Float32Array.from({ length: D }, (_, i) => Math.fround(Math.sin(rank * 31 + i) / 3));
}

const bits = (data: Float32Array) => [...new Uint32Array(data.slice().buffer)];

/** What every collective gave one member, in a fixed order. */
interface Outcome {
  sum: Float32Array;
  mean: Float32Array;
  gathered: number[][];
  atRoot: number[][] | null;
  broadcast: Float32Array;
  exchanged: number[][];
  stats: TrafficStats;
}

/**
 * Runs one of each collective on `comms` (all alive, same call order): sum, mean, all-gather,
 * gather at the members' middle rank, broadcast from the last, a neighbour ring over them, and
 * a barrier. `rankOf` maps a communicator to the rank whose input it contributes.
 */
async function runAll(
  comms: readonly Communicator[],
  rankOf: (comm: Communicator) => number,
): Promise<Outcome[]> {
  const ranks = comms.map((comm) => comm.rank);
  const root = ranks[ranks.length - 1]!;
  const gatherRoot = ranks[1]!;
  return await Promise.all(comms.map(async (comm, position) => {
    const own = rankOf(comm);
    const sum = await comm.allReduceSum(input(own), "base");
    const mean = await comm.allReduceMean(input(own), "outer");
    const gathered = await comm.allGather(Uint8Array.of(own, 7), "compressed");
    const atRoot = await comm.gather(Uint8Array.of(own), gatherRoot, "compressed");
    const broadcast = await comm.broadcast(
      comm.rank === root ? input(own) : new Float32Array(D),
      root,
      "base",
    );
    const next = ranks[(position + 1) % ranks.length]!;
    const previous = ranks[(position + ranks.length - 1) % ranks.length]!;
    const received = await comm.neighborExchange(
      [{ rank: next, data: Float32Array.of(own) }],
      [previous],
      "base",
    );
    await comm.barrier();
    return {
      sum,
      mean,
      gathered: gathered.map((bytes) => [...bytes]),
      atRoot: atRoot === null ? null : atRoot.map((bytes) => [...bytes]),
      broadcast,
      exchanged: [...received].map(([from, data]) => [from, ...data]),
      stats: comm.stats(),
    };
  }));
}

/**
 * Checks the members' outcomes against closed forms over the members' inputs, and each
 * member's bytes against `reference` (the same collectives on a run of exactly the members).
 */
function checkOutcomes(outcomes: readonly Outcome[], reference?: readonly Outcome[]): void {
  const inputs = MEMBERS.map(input);
  const sum = ringOrderSum(inputs);
  const mean = sum.map((value) => Math.fround(value / MEMBERS.length));
  outcomes.forEach((outcome, position) => {
    const rank = MEMBERS[position]!;
    assert.deepEqual(bits(outcome.sum), bits(sum), `sum on rank ${rank}`);
    assert.deepEqual(bits(outcome.mean), bits(mean), `mean on rank ${rank}`);
    assert.deepEqual(outcome.gathered, [[0, 7], [1, 7], [3, 7]], `all-gather on rank ${rank}`);
    assert.deepEqual(outcome.atRoot, rank === 1 ? [[0], [1], [3]] : null, `gather on ${rank}`);
    assert.deepEqual(bits(outcome.broadcast), bits(input(3)), `broadcast on rank ${rank}`);
    const previous = MEMBERS[(position + 2) % 3]!;
    assert.deepEqual(outcome.exchanged, [[previous, previous]], `exchange on rank ${rank}`);
    if (reference !== undefined) {
      assert.deepEqual(outcome.stats, reference[position]!.stats, `bytes of rank ${rank}`);
    }
  });
}

/** The same collectives on a memory run of exactly 3 ranks fed the members' inputs. */
async function threeRankReference(): Promise<Outcome[]> {
  const transports = createMemoryTransports(3);
  try {
    const comms = transports.map((transport) =>
      createCommunicator(transport, { segmentBytes: SEGMENT_BYTES })
    );
    return await runAll(comms, (comm) => MEMBERS[comm.rank]!);
  } finally {
    await Promise.all(transports.map((transport) => transport.close()));
  }
}

/** Members' communicators with the members set, rank 2's left out. */
function narrowed<C extends Communicator>(comms: readonly C[]): C[] {
  const members = comms.filter((comm) => comm.rank !== LOST);
  for (const comm of members) comm.setMembers(MEMBERS);
  return members;
}

Deno.test("members [0, 1, 3] of 4 memory ranks: closed forms, a 3-rank ring's bytes, rank 2 untouched", async () => {
  const transports = createMemoryTransports(4);
  try {
    const comms = transports.map((transport) =>
      createCommunicator(guarded(transport), { segmentBytes: SEGMENT_BYTES })
    );
    const members = narrowed(comms);
    assert.deepEqual(members.map((comm) => comm.members), [MEMBERS, MEMBERS, MEMBERS]);
    assert.deepEqual(comms[LOST]!.members, [0, 1, 2, 3]);
    const outcomes = await runAll(members, (comm) => comm.rank);
    const reference = await threeRankReference();
    checkOutcomes(outcomes, reference);
    // The all-reduces' bytes in closed form: a 3-rank ring's, by position.
    const segmentFloats = SEGMENT_BYTES / 4;
    outcomes.forEach((outcome, position) => {
      const ring = ringTraffic(position, 3, D, segmentFloats);
      assert.equal(outcome.stats.sent.outer, ring.sent);
      assert.equal(outcome.stats.received.outer, ring.received);
    });
    // Rank 2 received nothing at all.
    assert.deepEqual(transports[LOST]!.stats().received, {
      base: 0,
      outer: 0,
      compressed: 0,
      control: 0,
      state: 0,
    });
  } finally {
    await Promise.all(transports.map((transport) => transport.close()));
  }
});

Deno.test("collectives refuse a root or neighbour outside the members", async () => {
  const transports = createMemoryTransports(4);
  try {
    const [comm] = narrowed(transports.map((transport) => createCommunicator(transport)));
    await assert.rejects(() => comm!.broadcast(new Float32Array(1), 2, "base"), {
      name: "RangeError",
      message: "Cannot broadcast from rank 2: it is not a member (members are 0, 1, 3)",
    });
    await assert.rejects(() => comm!.gather(new Uint8Array(1), 2, "base"), {
      message: "Cannot gather at rank 2: it is not a member (members are 0, 1, 3)",
    });
    await assert.rejects(
      () => comm!.neighborExchange([{ rank: 2, data: new Float32Array(1) }], [], "base"),
      { message: "Cannot send to rank 2: it is not a member (members are 0, 1, 3)" },
    );
    await assert.rejects(() => comm!.neighborExchange([], [2], "base"), {
      message: "Cannot receive from rank 2: it is not a member (members are 0, 1, 3)",
    });
  } finally {
    await Promise.all(transports.map((transport) => transport.close()));
  }
});

Deno.test("setMembers refuses a list that is not ascending ranks including this one", () => {
  const comm = createCommunicator(createMemoryTransports(4)[1]!);
  assert.throws(() => comm.setMembers([0, 3]), {
    name: "RangeError",
    message: "Invalid members [0, 3]: they must include this worker's rank 1",
  });
  assert.throws(() => comm.setMembers([1, 0]), {
    message: "Invalid members [1, 0]: ranks must be distinct and ascending",
  });
  assert.throws(() => comm.setMembers([1, 1]), {
    message: "Invalid members [1, 1]: ranks must be distinct and ascending",
  });
  assert.throws(() => comm.setMembers([1, 4]), {
    message: "Invalid members [1, 4]: 4 is not a rank 0..3",
  });
  assert.throws(() => comm.setMembers([0.5, 1]), {
    message: "Invalid members [0.5, 1]: 0.5 is not a rank 0..3",
  });
  assert.deepEqual(comm.members, [0, 1, 2, 3]);
});

Deno.test("a lone member reduces to its own vector and sends nothing", async () => {
  const transports = createMemoryTransports(3);
  try {
    const comm = createCommunicator(guarded(transports[1]!));
    comm.setMembers([1]);
    const mean = await comm.allReduceMean(Float32Array.of(3, 5), "base");
    assert.deepEqual([...mean], [3, 5]);
    assert.deepEqual(await comm.allGather(Uint8Array.of(9), "base"), [Uint8Array.of(9)]);
    await comm.barrier();
    assert.equal(comm.stats().sent.base + comm.stats().sent.control, 0);
  } finally {
    await Promise.all(transports.map((transport) => transport.close()));
  }
});

Deno.test("setting every rank back restores the full run's collectives", async () => {
  const transports = createMemoryTransports(3);
  try {
    const comms = transports.map((transport) => createCommunicator(transport));
    for (const comm of comms) comm.setMembers([0, 2].includes(comm.rank) ? [0, 2] : [1]);
    for (const comm of comms) comm.setMembers([0, 1, 2]);
    const sums = await Promise.all(
      comms.map((comm) => comm.allReduceMean(input(comm.rank), "base")),
    );
    const expected = ringOrderSum([0, 1, 2].map(input)).map((value) => Math.fround(value / 3));
    for (const sum of sums) assert.deepEqual(bits(sum), bits(expected));
  } finally {
    await Promise.all(transports.map((transport) => transport.close()));
  }
});

Deno.test("members [0, 1, 3] over TCP complete their collectives after rank 2's transport closed", async () => {
  const transports = await createLocalTcpTransports(4, { timeoutMs: 5000 });
  try {
    await transports[LOST]!.close();
    const comms = transports.map((transport) =>
      createCommunicator(guarded(transport), { segmentBytes: SEGMENT_BYTES })
    );
    const outcomes = await runAll(narrowed(comms), (comm) => comm.rank);
    checkOutcomes(outcomes, await threeRankReference());
  } finally {
    await Promise.all(transports.map((transport) => transport.close()));
  }
});

/** Communicators on communication threads (with `shared`, all-reduces in shared memory). */
async function threadComms(n: number, shared: boolean): Promise<ThreadedCommunicator[]> {
  const threads = await Promise.all(Array.from({ length: n }, () => startCommThread()));
  const addresses = threads.map((thread) => thread.address);
  const arena = shared ? { arena: createSharedArena(n, 8) } : {};
  return await Promise.all(
    threads.map((thread, rank) =>
      thread.connect({
        rank,
        size: n,
        addresses,
        segmentBytes: SEGMENT_BYTES,
        timeoutMs: 5000,
        ...arena,
      })
    ),
  );
}

for (const shared of [false, true]) {
  const label = shared ? "shared-memory" : "threaded";
  Deno.test(`members [0, 1, 3] of ${label} communicators complete after rank 2's thread closed`, async () => {
    const comms = await threadComms(4, shared);
    try {
      await comms[LOST]!.close();
      const members = narrowed(comms);
      assert.deepEqual(members.map((comm) => comm.members), [MEMBERS, MEMBERS, MEMBERS]);
      // Shared memory needs the whole group, so its all-reduces take the TCP ring over the
      // members: the bytes are a 3-rank ring's either way.
      checkOutcomes(await runAll(members, (comm) => comm.rank), await threeRankReference());
    } finally {
      await Promise.all(comms.map((comm) => comm.close()));
    }
  });
}

Deno.test("members [0, 1, 3] of two shared-memory groups of 2 take the flat ring over the members", async () => {
  const transports = createMemoryTransports(4, { timeoutMs: 2000 });
  const arenas = [createSharedArena(2, 8, 0), createSharedArena(2, 8, 2)];
  const reducers = transports.map((transport) =>
    new SharedReducer(arenas[transport.rank >> 1]!, transport.rank % 2, { timeoutMs: 300 })
  );
  try {
    const comms = transports.map((transport, rank) =>
      createCommunicator(guarded(transport), {
        segmentBytes: SEGMENT_BYTES,
        sharedReducer: reducers[rank]!,
      })
    );
    reducers[LOST]!.close();
    await transports[LOST]!.close();
    // Worker 3's group lost its first rank: a ring over the groups could not run, the members'
    // ring can, with a 3-rank run's sums and bytes.
    checkOutcomes(await runAll(narrowed(comms), (comm) => comm.rank), await threeRankReference());
  } finally {
    for (const reducer of reducers) reducer.close();
    await Promise.all(transports.map((transport) => transport.close()));
  }
});

Deno.test("collectives in flight when the members narrow stay over the members they started over", async () => {
  // An elastic run narrows the members before a step while an all-reduce or all-gather launched
  // at an earlier step (overlapLocalSgd, streamingDiloco) is still running over every rank.
  const transports = createMemoryTransports(4);
  try {
    const comms = transports.map((transport) => createCommunicator(transport));
    const means = comms.map((comm) =>
      comm.allReduceMeanStart(Float32Array.of(comm.rank + 1), "base")
    );
    const gathered = comms.map((comm) => comm.allGatherStart(Uint8Array.of(comm.rank), "outer"));
    for (const rank of MEMBERS) comms[rank]!.setMembers(MEMBERS);
    for (const [rank, pending] of means.entries()) {
      assert.deepEqual([...await pending.wait()], [(1 + 2 + 3 + 4) / 4], `rank ${rank}`);
    }
    for (const [rank, pending] of gathered.entries()) {
      const codes = (await pending.wait()).map((bytes) => [...bytes]);
      assert.deepEqual(codes, [[0], [1], [2], [3]], `rank ${rank}`);
    }
  } finally {
    await Promise.all(transports.map((transport) => transport.close()));
  }
});
