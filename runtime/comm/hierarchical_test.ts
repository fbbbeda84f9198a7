import assert from "node:assert/strict";
import { createCommunicator } from "./communicator.ts";
import { ringOrderSum } from "./_ring_order.ts";
import { createMemoryTransports } from "./memory_transport.ts";
import { createSharedArena, SharedReducer } from "./shared_reduce.ts";
import { startCommThread } from "./threaded_communicator.ts";
import { PeerError } from "./types.ts";
import { FRAME_HEADER_BYTES } from "./wire.ts";
import { randomStream } from "../random.ts";

/** Every rank's vector of `d` values, drawn so that float32 sums depend on their order. */
function vectors(n: number, d: number, seed: number): Float32Array[] {
  return Array.from({ length: n }, (_, rank) => {
    const random = randomStream(seed, "hierarchical", rank);
    return Float32Array.from({ length: d }, () => random.normal() * 10 ** (rank % 4));
  });
}

/** The hierarchical order: each group's sum in its ring's order, then the ring over the groups. */
function hierarchicalSum(inputs: Float32Array[], groupSize: number): Float32Array {
  const groups: Float32Array[] = [];
  for (let first = 0; first < inputs.length; first += groupSize) {
    groups.push(ringOrderSum(inputs.slice(first, first + groupSize)));
  }
  return ringOrderSum(groups);
}

const bits = (data: Float32Array) => [...new Uint32Array(data.slice().buffer)];

/**
 * `n` communicators over memory transports, in groups of `groupSize` consecutive ranks that each
 * share an arena of `slotFloats` floats per slot.
 */
function groupedComms(n: number, groupSize: number, slotFloats: number, segmentBytes?: number) {
  const transports = createMemoryTransports(n, { timeoutMs: 2000 });
  const arenas = Array.from(
    { length: n / groupSize },
    (_, group) => createSharedArena(groupSize, slotFloats, group * groupSize),
  );
  const reducers = transports.map((transport) =>
    new SharedReducer(
      arenas[Math.floor(transport.rank / groupSize)]!,
      transport.rank % groupSize,
      { timeoutMs: 300 },
    )
  );
  const comms = transports.map((transport, rank) =>
    createCommunicator(transport, {
      sharedReducer: reducers[rank]!,
      ...(segmentBytes === undefined ? {} : { segmentBytes }),
    })
  );
  const close = async () => {
    for (const reducer of reducers) reducer.close();
    await Promise.all(transports.map((transport) => transport.close()));
  };
  return { comms, transports, reducers, close };
}

Deno.test("hierarchical all-reduce: the ring over the groups' sums, the same on every rank", async () => {
  for (const [n, groupSize] of [[4, 2], [6, 3], [6, 2], [3, 1]] as const) {
    for (const d of [1, 7, 1001]) {
      for (const segmentBytes of [16, 256 * 1024]) {
        const inputs = vectors(n, d, 7 * n + d);
        const { comms, close } = groupedComms(n, groupSize, 100, segmentBytes);
        try {
          const sums = await Promise.all(
            comms.map((comm) => comm.allReduceSum(inputs[comm.rank]!, "base")),
          );
          const means = await Promise.all(
            comms.map((comm) => comm.allReduceMeanStart(inputs[comm.rank]!, "outer").wait()),
          );
          const expected = hierarchicalSum(inputs, groupSize);
          const where = `n ${n}, groups of ${groupSize}, d ${d}, segment ${segmentBytes}`;
          for (let rank = 0; rank < n; rank++) {
            assert.deepEqual(bits(sums[rank]!), bits(expected), `sum on rank ${rank}, ${where}`);
            assert.deepEqual(bits(means[rank]!), bits(expected.map((x) => x / n)), where);
          }
          for (let i = 0; i < d; i++) {
            const plain = inputs.reduce((sum, input) => sum + input[i]!, 0);
            assert.ok(Math.abs(sums[0]![i]! - plain) <= 1e-3 * (1 + Math.abs(plain)), where);
          }
        } finally {
          await close();
        }
      }
    }
  }
});

Deno.test("hierarchical all-reduce: only the groups' first ranks send, the ring between them", async () => {
  // 4 ranks in 2 groups, 7 floats: the first ranks 0 and 2 run a ring of 2 with chunks of 3 and
  // 4 floats; each sends one chunk in each half, 7 floats in 2 messages.
  const { comms, close } = groupedComms(4, 2, 1000);
  try {
    await Promise.all(comms.map((comm) => comm.allReduceSum(new Float32Array(7), "base")));
    assert.deepEqual(
      comms.map((comm) => comm.stats().sent.base),
      [7 * 4 + 2 * FRAME_HEADER_BYTES, 0, 7 * 4 + 2 * FRAME_HEADER_BYTES, 0],
    );
    assert.deepEqual(comms.map((comm) => comm.stats().received.base), [64 - 12, 0, 64 - 12, 0]);
  } finally {
    await close();
  }
});

Deno.test("hierarchical all-reduce: a first rank that leaves fails its group and the others", async () => {
  const { comms, transports, reducers, close } = groupedComms(4, 2, 1000);
  try {
    const running = comms.filter((comm) => comm.rank !== 2).map((comm) =>
      comm.allReduceSum(new Float32Array(50).fill(comm.rank), "base")
    );
    // Rank 2 goes away as a dying worker does: its sockets close and its ticks stop.
    reducers[2]!.close();
    await transports[2]!.close();
    const results = await Promise.allSettled(running);
    for (const result of results) {
      assert.equal(result.status, "rejected");
      const error = (result as PromiseRejectedResult).reason;
      assert.ok(error instanceof PeerError, String(error));
      assert.equal(error.peer, 2, error.message);
    }
    // Rank 1 heard it from its group's first rank, rank 0, through shared memory.
    assert.match(
      String((results[1] as PromiseRejectedResult).reason),
      /Worker 2 failed in the all-reduce between hosts \(as worker 0 of this host found\)/,
    );
  } finally {
    await close();
  }
});

Deno.test("hierarchical all-reduce: groups must split the run into equal runs of ranks", () => {
  const transports = createMemoryTransports(4);
  const uneven = new SharedReducer(createSharedArena(3, 8), 0);
  const elsewhere = new SharedReducer(createSharedArena(2, 8, 2), 0);
  try {
    assert.throws(() => createCommunicator(transports[0]!, { sharedReducer: uneven }), {
      message:
        "A shared-memory group of ranks 0..2 does not split 4 ranks into equal groups of consecutive ranks",
    });
    assert.throws(() => createCommunicator(transports[0]!, { sharedReducer: elsewhere }), {
      message: "Rank 0 is not place 0 of the group of ranks 2..3",
    });
  } finally {
    uneven.close();
    elsewhere.close();
    for (const transport of transports) transport.close();
  }
});

Deno.test("hierarchical all-reduce on communication threads: one arena per group", async () => {
  const n = 4;
  const inputs = vectors(n, 3001, 11);
  const arenas = [createSharedArena(2, 500, 0), createSharedArena(2, 500, 2)];
  const threads = await Promise.all(Array.from({ length: n }, () => startCommThread()));
  const addresses = threads.map((thread) => thread.address);
  const comms = await Promise.all(
    threads.map((thread, rank) =>
      thread.connect({ rank, size: n, addresses, arena: arenas[Math.floor(rank / 2)]! })
    ),
  );
  try {
    const sums = await Promise.all(
      comms.map((comm) => comm.allReduceSum(inputs[comm.rank]!, "base")),
    );
    const expected = bits(hierarchicalSum(inputs, 2));
    for (const sum of sums) assert.deepEqual(bits(sum), expected);
    assert.equal(comms[1]!.stats().sent.base, 0);
    assert.ok(comms[2]!.stats().sent.base > 3001 * 4 / 2);
  } finally {
    await Promise.all(comms.map((comm) => comm.close()));
  }
});
