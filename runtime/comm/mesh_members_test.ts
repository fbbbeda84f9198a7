/**
 * A TCP mesh over members only (`connectTcpMesh`'s and `CommThread.connect`'s `members`): the
 * survivors of a lost worker, here ranks 0, 1 and 3 of 4 with rank 2 never started (no listener,
 * address `""`), form a mesh among themselves and run a 3-rank run's collectives, byte for byte,
 * while a non-member that dials in is refused without failing the mesh.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createCommunicator } from "./communicator.ts";
import { clientHandshake, RunKey } from "./handshake.ts";
import { createSharedArena } from "./shared_reduce.ts";
import { connectTcpMesh, listenTcp, parseAddress } from "./tcp_transport.ts";
import { startCommThread } from "./threaded_communicator.ts";
import type { Communicator, TrafficStats, Transport } from "./types.ts";

const SIZE = 4;
const MEMBERS = [0, 1, 3] as const;
const SECRET = new TextEncoder().encode("the secret of the members' mesh test");
const D = 12;

/**
 * Rank r's vector: (i − 5) · w_r with w = 1, 2, 6 for ranks 0, 1, 3. The members' sum is
 * 9 · (i − 5) and their mean 3 · (i − 5), exact in float32 (a mean over all 4 ranks or a sum
 * divided by 4 would differ).
 */
function input(rank: number): Float32Array {
  const weight = ({ 0: 1, 1: 2, 2: 100, 3: 6 } as Record<number, number>)[rank]!;
  return Float32Array.from({ length: D }, (_, i) => (i - 5) * weight);
}
const MEAN = Array.from({ length: D }, (_, i) => 3 * (i - 5));

/** Listeners for `ranks`, and the addresses of a run of `size` with `""` for everyone else. */
function listeners(ranks: readonly number[], size: number) {
  const opened = new Map(ranks.map((rank) => [rank, listenTcp()]));
  const addresses = Array.from({ length: size }, (_, rank) => opened.get(rank)?.address ?? "");
  return { opened, addresses };
}

/** The mesh of `ranks` of a run of `size`, with `members` given when narrowed. */
async function mesh(
  ranks: readonly number[],
  size: number,
  members?: readonly number[],
): Promise<Transport[]> {
  const { opened, addresses } = listeners(ranks, size);
  return await Promise.all(ranks.map((rank) =>
    connectTcpMesh({
      rank,
      size,
      listener: opened.get(rank)!.listener,
      addresses,
      secret: SECRET,
      timeoutMs: 5000,
      ...(members === undefined ? {} : { members }),
    })
  ));
}

/** Every rank's mean of its {@linkcode input}, and its byte counters afterwards. */
async function means(
  comms: readonly Communicator[],
  inputOf: (comm: Communicator) => Float32Array,
): Promise<{ mean: number[]; stats: TrafficStats }[]> {
  return await Promise.all(comms.map(async (comm) => {
    const mean = [...await comm.allReduceMean(inputOf(comm), "base")];
    return { mean, stats: comm.stats() };
  }));
}

Deno.test("members [0, 1, 3] of 4 (rank 2 never started) mesh over TCP: their mean, a 3-rank ring's bytes", async () => {
  const narrowed = await mesh(MEMBERS, SIZE, MEMBERS);
  const plain = await mesh([0, 1, 2], 3);
  try {
    assert.deepEqual(narrowed.map((transport) => transport.members), [MEMBERS, MEMBERS, MEMBERS]);
    const comms = narrowed.map((transport) => createCommunicator(transport));
    assert.deepEqual(comms.map((comm) => [comm.rank, comm.size, comm.members]), [
      [0, 4, MEMBERS],
      [1, 4, MEMBERS],
      [3, 4, MEMBERS],
    ]);
    const got = await means(comms, (comm) => input(comm.rank));
    for (const { mean } of got) assert.deepEqual(mean, MEAN);
    // The same all-reduce on a plain 3-rank mesh fed the members' vectors: the same bytes, by
    // position in the ring.
    const reference = await means(
      plain.map((transport) => createCommunicator(transport)),
      (comm) => input(MEMBERS[comm.rank]!),
    );
    for (const { mean } of reference) assert.deepEqual(mean, MEAN);
    got.forEach(({ stats }, position) => {
      assert.ok(stats.sent.base > 0);
      assert.deepEqual(stats, reference[position]!.stats, `bytes of rank ${MEMBERS[position]}`);
    });
  } finally {
    await Promise.all([...narrowed, ...plain].map((transport) => transport.close()));
  }
});

Deno.test("members [0, 1, 3] of 4 through communication threads, with a 4-rank arena left unused", async () => {
  const threads = await Promise.all(MEMBERS.map(() => startCommThread()));
  const addresses = ["", "", "", ""];
  MEMBERS.forEach((rank, position) => addresses[rank] = threads[position]!.address);
  // Shared memory would wait for rank 2's slot until its timeout and fail: a strict subset must
  // take the members' ring.
  const arena = createSharedArena(SIZE, D);
  const plain = await mesh([0, 1, 2], 3);
  try {
    const comms = await Promise.all(threads.map((thread, position) =>
      thread.connect({
        rank: MEMBERS[position]!,
        size: SIZE,
        addresses,
        members: MEMBERS,
        arena,
        timeoutMs: 5000,
      })
    ));
    assert.deepEqual(comms.map((comm) => comm.members), [MEMBERS, MEMBERS, MEMBERS]);
    const got = await means(comms, (comm) => input(comm.rank));
    const reference = await means(
      plain.map((transport) => createCommunicator(transport)),
      (comm) => input(MEMBERS[comm.rank]!),
    );
    got.forEach(({ mean, stats }, position) => {
      assert.deepEqual(mean, MEAN);
      assert.deepEqual(stats, reference[position]!.stats, `bytes of rank ${MEMBERS[position]}`);
    });
  } finally {
    await Promise.all(threads.map((thread) => thread.close()));
    await Promise.all(plain.map((transport) => transport.close()));
  }
});

Deno.test("a non-member dialling in with the run's secret is refused, and the members' mesh forms", async () => {
  const { opened, addresses } = listeners(MEMBERS, SIZE);
  const warnings: string[] = [];
  const connect = (rank: number) =>
    connectTcpMesh({
      rank,
      size: SIZE,
      listener: opened.get(rank)!.listener,
      addresses,
      members: MEMBERS,
      secret: SECRET,
      timeoutMs: 5000,
      warn: (message) => warnings.push(`${rank}: ${message}`),
    });
  // Rank 0 waits for ranks 1 and 3, so it is still accepting when rank 2 dials in.
  const first = connect(0);
  const conn = await Deno.connect(parseAddress(addresses[0]!));
  try {
    await assert.rejects(
      clientHandshake(conn, {
        channel: "mesh",
        rank: 2,
        target: 0,
        world: SIZE,
        runId: new Uint8Array(16),
        planHash: new Uint8Array(32),
        key: await RunKey.fromSecret(SECRET),
      }),
      { message: "Worker 2 connected to worker 0, but it is not a member (members are 0, 1, 3)" },
    );
  } finally {
    conn.close();
  }
  const transports = await Promise.all([first, connect(1), connect(3)]);
  try {
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /^0: Worker 2 connected to worker 0, but it is not a member \(members are 0, 1, 3\) \(a connection from 127\.0\.0\.1:\d+\)$/,
    );
    const got = await means(transports.map((t) => createCommunicator(t)), (c) => input(c.rank));
    for (const { mean } of got) assert.deepEqual(mean, MEAN);
  } finally {
    await Promise.all(transports.map((transport) => transport.close()));
  }
});

Deno.test("an invalid members list throws naming it before anything connects", async () => {
  // Rank 0's listener: a mesh that dialled it would show as an accepted connection.
  const { opened, addresses } = listeners([0, 1], 3);
  const peer = opened.get(0)!.listener;
  let dialled = false;
  peer.accept().then((conn) => {
    dialled = true;
    conn.close();
  }, () => {});
  const cases = [
    { members: [0, 2], message: "Invalid members [0, 2]: they must include this worker's rank 1" },
    { members: [1, 0], message: "Invalid members [1, 0]: ranks must be distinct and ascending" },
    { members: [0, 1, 3], message: "Invalid members [0, 1, 3]: 3 is not a rank 0..2" },
  ];
  for (const { members, message } of cases) {
    const { listener } = listenTcp();
    const port = (listener.addr as Deno.NetAddr).port;
    await assert.rejects(
      connectTcpMesh({ rank: 1, size: 3, listener, addresses, members }),
      { name: "RangeError", message },
    );
    // The mesh closed its listener: the port is free again.
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  }
  const thread = await startCommThread();
  try {
    await assert.rejects(
      thread.connect({ rank: 1, size: 3, addresses, members: [1, 0] }),
      {
        name: "RangeError",
        message: "Invalid members [1, 0]: ranks must be distinct and ascending",
      },
    );
    await assert.rejects(
      thread.connect({ rank: 1, size: 3, addresses, members: [0, 2] }),
      {
        name: "RangeError",
        message: "Invalid members [0, 2]: they must include this worker's rank 1",
      },
    );
  } finally {
    await thread.close();
  }
  // Let a dial, had there been one, reach the listener.
  await new Promise((resolve) => setTimeout(resolve, 50));
  peer.close();
  opened.get(1)!.listener.close();
  assert.equal(dialled, false);
});

Deno.test("gossip among members [0, 1, 3]: one neighbour exchange around their ring; rank 2 refused at once", async () => {
  const transports = await mesh(MEMBERS, SIZE, MEMBERS);
  try {
    const comms = transports.map((transport) => createCommunicator(transport));
    // 0 → 1 → 3 → 0, each sending its rank times ten.
    const received = await Promise.all(comms.map((comm, position) =>
      comm.neighborExchange(
        [{ rank: MEMBERS[(position + 1) % 3]!, data: Float32Array.of(comm.rank * 10) }],
        [MEMBERS[(position + 2) % 3]!],
        "base",
      )
    ));
    assert.deepEqual(
      received.map((map) => [...map].map(([from, data]) => [from, ...data])),
      [[[3, 30]], [[0, 0]], [[1, 10]]],
    );
    // The transport itself refuses the rank outside, instead of waiting for it to time out.
    const notMember = "Cannot send to rank 2: it is not a member of worker 0's mesh " +
      "(members are 0, 1, 3)";
    await assert.rejects(transports[0]!.send(2, 0, new Uint8Array(1), "base"), {
      name: "RangeError",
      message: notMember,
    });
    await assert.rejects(transports[0]!.recv(2, 0), {
      name: "RangeError",
      message: notMember.replace("send to", "receive from"),
    });
    await assert.rejects(
      comms[0]!.neighborExchange([{ rank: 2, data: Float32Array.of(1) }], [], "base"),
      { message: "Cannot send to rank 2: it is not a member (members are 0, 1, 3)" },
    );
  } finally {
    await Promise.all(transports.map((transport) => transport.close()));
  }
});
