import assert from "node:assert/strict";
import { withTransports } from "./_conformance.ts";
import { createCommunicator } from "./communicator.ts";
import { ringOrderSum } from "./_ring_order.ts";
import { createMemoryTransports } from "./memory_transport.ts";
import { createLocalTcpTransports } from "./tcp_transport.ts";
import { createSharedArena, type SharedArena } from "./shared_reduce.ts";
import { startCommThread, type ThreadedCommunicator } from "./threaded_communicator.ts";
import { type Communicator, PeerError, type Transport } from "./types.ts";
import { FRAME_HEADER_BYTES } from "./wire.ts";

const TRANSPORTS = {
  memory: (n: number, options?: { timeoutMs?: number }) =>
    Promise.resolve(createMemoryTransports(n, options)),
  tcp: (n: number, options?: { timeoutMs?: number }) => createLocalTcpTransports(n, options),
};

/**
 * Communicators on communication threads, each owning its sockets (`comm_thread.ts`); with an
 * arena, their all-reduces go through shared memory (`shared_reduce.ts`).
 */
async function threadComms(
  n: number,
  options: { segmentBytes?: number; timeoutMs?: number },
  arena?: SharedArena,
): Promise<ThreadedCommunicator[]> {
  const threads = await Promise.all(Array.from({ length: n }, () => startCommThread()));
  const addresses = threads.map((thread) => thread.address);
  return await Promise.all(
    threads.map((thread, rank) =>
      thread.connect({ rank, size: n, addresses, ...options, ...(arena ? { arena } : {}) })
    ),
  );
}

/** Runs `body` with one communicator per rank over fresh transports, then closes them. */
async function withComms<T>(
  kind: keyof typeof TRANSPORTS | "thread" | "shared",
  n: number,
  body: (comms: Communicator[], transports: Pick<Transport, "close">[]) => Promise<T>,
  options: { segmentBytes?: number; timeoutMs?: number } = {},
): Promise<T> {
  if (kind === "thread" || kind === "shared") {
    // Slots of 1000 floats: longer vectors go through shared memory in pieces.
    const arena = kind === "shared" ? createSharedArena(n, 1000) : undefined;
    const comms = await threadComms(n, options, arena);
    try {
      return await body(comms, comms);
    } finally {
      await Promise.all(comms.map((comm) => comm.close()));
    }
  }
  let result!: T;
  return withTransports(TRANSPORTS[kind], n, options, async (transports) => {
    const comms = transports.map((t) =>
      createCommunicator(t, options.segmentBytes ? { segmentBytes: options.segmentBytes } : {})
    );
    result = await body(comms, transports);
  }).then(() => result);
}

/** A deterministic pseudo-random generator (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function vectors(n: number, d: number, seed: number): Float32Array[] {
  const next = random(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: d }, () => next() * 2 - 1));
}

const bits = (data: Float32Array) => [...new Uint32Array(data.slice().buffer)];

for (const kind of ["memory", "tcp", "thread", "shared"] as const) {
  for (const n of [2, 3, 5]) {
    Deno.test(`${kind}: all-reduce sums and means match a plain sum, n = ${n}`, async () => {
      for (const d of [1, 7, 1001]) {
        for (const segmentBytes of [16, 256 * 1024]) {
          const inputs = vectors(n, d, 100 * n + d);
          const integers = inputs.map((v) => v.map((x) => Math.round(x * 1000)));
          await withComms(kind, n, async (comms) => {
            const sums = await Promise.all(
              comms.map((c) => c.allReduceSum(inputs[c.rank]!, "base")),
            );
            const means = await Promise.all(
              comms.map((c) => c.allReduceMean(inputs[c.rank]!, "outer")),
            );
            const exact = await Promise.all(
              comms.map((c) => c.allReduceSum(integers[c.rank]!, "base")),
            );
            const expected = ringOrderSum(inputs);
            for (const rank of comms.map((c) => c.rank)) {
              assert.deepEqual(bits(sums[rank]!), bits(expected), `sum on rank ${rank}, d = ${d}`);
              assert.deepEqual(bits(means[rank]!), bits(expected.map((x) => x / n)));
              // Integers are summed exactly, in any order.
              for (let i = 0; i < d; i++) {
                assert.equal(exact[rank]![i], integers.reduce((s, v) => s + v[i]!, 0));
                const plain = inputs.reduce((s, v) => s + v[i]!, 0);
                assert.ok(Math.abs(sums[rank]![i]! - plain) < 1e-5);
              }
            }
            // Inputs are left alone.
            assert.deepEqual(bits(inputs[0]!), bits(vectors(n, d, 100 * n + d)[0]!));
          }, { segmentBytes });
        }
      }
    });
  }

  Deno.test(`${kind}: fewer values than ranks and empty vectors`, async () => {
    await withComms(kind, 5, async (comms) => {
      const one = await Promise.all(
        comms.map((c) => c.allReduceSum(new Float32Array([c.rank + 1]), "base")),
      );
      assert.deepEqual(one.map((v) => [...v]), Array(5).fill([15]));
      const empty = await Promise.all(
        comms.map((c) => c.allReduceMean(new Float32Array(0), "base")),
      );
      assert.deepEqual(empty.map((v) => v.length), [0, 0, 0, 0, 0]);
    });
  });

  Deno.test(`${kind}: all-reduce traffic equals the hand-computed frames`, async () => {
    // n = 3, d = 7: chunks of 2, 2 and 3 floats. Rank 0 sends chunk 0 and 2 (reduce-scatter),
    // then chunks 1 and 0 (all-gather): 9 floats in 4 frames.
    await withComms(kind, 3, async (comms) => {
      await Promise.all(comms.map((c) => c.allReduceSum(new Float32Array(7), "base")));
      assert.equal(comms[0]!.stats().sent.base, 9 * 4 + 4 * FRAME_HEADER_BYTES);
      const total = comms.reduce((s, c) => s + c.stats().sent.base, 0);
      assert.equal(total, 2 * 2 * 7 * 4 + 3 * 4 * FRAME_HEADER_BYTES);
    });
  });

  Deno.test(`${kind}: non-blocking all-reduce overlaps with neighbour exchanges`, async () => {
    const n = 4;
    const d = 5000;
    const inputs = vectors(n, d, 42);
    await withComms(kind, n, async (comms) => {
      const results = await Promise.all(comms.map(async (comm) => {
        const mine = inputs[comm.rank]!.slice();
        const pending = comm.allReduceMeanStart(mine, "outer");
        mine.fill(0); // the all-reduce works on a copy taken at start
        const gossip: number[][] = [];
        for (let step = 0; step < 5; step++) {
          const left = (comm.rank + n - 1) % n;
          const right = (comm.rank + 1) % n;
          const got = await comm.neighborExchange(
            [{ rank: left, data: new Float32Array([comm.rank, step]) }, {
              rank: right,
              data: new Float32Array([comm.rank, step]),
            }],
            [left, right],
            "base",
          );
          gossip.push([...got.get(left)!, ...got.get(right)!]);
        }
        return { mean: await pending.wait(), gossip };
      }));
      const expected = ringOrderSum(inputs).map((x) => x / n);
      for (const [rank, { mean, gossip }] of results.entries()) {
        assert.deepEqual(bits(mean), bits(expected));
        const left = (rank + n - 1) % n;
        const right = (rank + 1) % n;
        assert.deepEqual(gossip, [0, 1, 2, 3, 4].map((step) => [left, step, right, step]));
      }
    }, { segmentBytes: 1024 });
  });

  Deno.test(`${kind}: neighbour exchange with per-neighbour vectors and self-loops`, async () => {
    await withComms(kind, 3, async (comms) => {
      const got = await Promise.all(comms.map((comm) => {
        const to = [0, 1, 2].map((rank) => ({
          rank,
          data: new Float32Array([comm.rank * 10 + rank, 0.5]),
        }));
        return comm.neighborExchange(to, [2, 1, 0], "base");
      }));
      for (const [rank, received] of got.entries()) {
        assert.deepEqual([...received.keys()], [2, 1, 0]);
        for (const [from, data] of received) assert.deepEqual([...data], [from * 10 + rank, 0.5]);
      }
      // A one-way exchange: only rank 0 sends, only rank 1 receives.
      const oneWay = await Promise.all(comms.map((comm) =>
        comm.neighborExchange(
          comm.rank === 0 ? [{ rank: 1, data: new Float32Array([9]) }] : [],
          comm.rank === 1 ? [0] : [],
          "compressed",
        )
      ));
      assert.deepEqual([...oneWay[1]!.get(0)!], [9]);
      assert.equal(oneWay[2]!.size, 0);
    });
  });

  Deno.test(`${kind}: neighbour exchange of bytes: any length, counted as written`, async () => {
    const n = 3;
    await withComms(kind, n, async (comms) => {
      // Rank r sends r + 5 bytes (5 and 6: not whole floats) to both other ranks.
      const code = (rank: number, to: number) =>
        Uint8Array.from({ length: rank + 5 }, (_, j) => (rank * 31 + to * 7 + j) & 255);
      const before = comms.map((comm) => comm.stats().sent.compressed);
      const got = await Promise.all(comms.map((comm) => {
        const others = [0, 1, 2].filter((rank) => rank !== comm.rank);
        return comm.neighborExchangeBytes(
          others.map((rank) => ({ rank, data: code(comm.rank, rank) })),
          others,
          "compressed",
        );
      }));
      for (const [rank, received] of got.entries()) {
        for (const [from, data] of received) {
          assert.ok(data instanceof Uint8Array);
          assert.deepEqual([...data], [...code(from, rank)]);
        }
        assert.equal(received.size, 2);
      }
      await Promise.all(comms.map((comm) => comm.barrier()));
      for (const [rank, comm] of comms.entries()) {
        const sent = comm.stats().sent.compressed - before[rank]!;
        assert.equal(sent, 2 * (rank + 5 + FRAME_HEADER_BYTES), `rank ${rank}`);
      }
    });
  });

  Deno.test(`${kind}: broadcast, gather, allGather and barrier`, async () => {
    const d = 1001;
    const source = vectors(1, d, 5)[0]!;
    await withComms(kind, 5, async (comms) => {
      const broadcast = await Promise.all(
        comms.map((c) => c.broadcast(c.rank === 2 ? source : new Float32Array(d), 2, "base")),
      );
      for (const v of broadcast) assert.deepEqual(bits(v), bits(source));

      const mine = (rank: number) => Uint8Array.from({ length: rank * 3 }, (_, i) => rank + i);
      const gathered = await Promise.all(comms.map((c) => c.gather(mine(c.rank), 3, "control")));
      assert.deepEqual(gathered.map((g) => g === null), [true, true, true, false, true]);
      assert.deepEqual(gathered[3], [0, 1, 2, 3, 4].map(mine));

      const all = await Promise.all(comms.map((c) => c.allGather(mine(c.rank), "compressed")));
      for (const got of all) assert.deepEqual(got, [0, 1, 2, 3, 4].map(mine));
      // The start form gathers a copy taken at the start, in rank order too.
      const started = comms.map((c) => {
        const data = mine(c.rank);
        const pending = c.allGatherStart(data, "outer");
        data.fill(255);
        return pending;
      });
      for (const got of await Promise.all(started.map((pending) => pending.wait()))) {
        assert.deepEqual(got, [0, 1, 2, 3, 4].map(mine));
      }
      assert.ok(started.every((pending) => pending.elapsedMs() !== null));

      const events: string[] = [];
      await Promise.all(comms.map(async (c) => {
        await new Promise((resolve) => setTimeout(resolve, c.rank * 15));
        events.push(`arrive ${c.rank}`);
        await c.barrier();
        events.push(`leave ${c.rank}`);
      }));
      assert.ok(events.slice(0, 5).every((e) => e.startsWith("arrive")), events.join(", "));
      assert.ok(comms.every((c) => c.stats().sent.control > 0));
    }, { segmentBytes: 64 });
  });

  Deno.test(`${kind}: a rank that leaves makes the others fail with PeerError`, async () => {
    await withComms(kind, 3, async (comms, transports) => {
      const running = comms.slice(0, 2).map((c) =>
        assert.rejects(c.allReduceSum(new Float32Array(100), "base"), PeerError)
      );
      const pending = comms.slice(0, 2).map((c) =>
        c.allReduceMeanStart(new Float32Array(9), "outer")
      );
      await transports[2]!.close();
      await Promise.all(running);
      for (const p of pending) await assert.rejects(p.wait(), PeerError);
    }, { timeoutMs: 300 });
  });

  Deno.test(`${kind}: collectives refuse invalid arguments`, async () => {
    await withComms(kind, 2, async ([a]) => {
      await assert.rejects(a!.broadcast(new Float32Array(1), 2, "base"), {
        message: "Cannot broadcast from rank 2: ranks are 0..1",
      });
      await assert.rejects(
        a!.neighborExchange([], [1, 1], "base"),
        { message: "Cannot receive from rank 1 twice in one exchange" },
      );
      await assert.rejects(a!.allReduceSum(new Float32Array(1), "nope" as "base"), {
        message: 'Unknown traffic phase "nope"',
      });
    });
  });
}

Deno.test("memory, TCP and communication threads give bit-identical results and traffic", async () => {
  const n = 3;
  const inputs = vectors(n, 777, 9);
  const script = async (comms: Communicator[]) => {
    const out = await Promise.all(comms.map(async (c) => {
      const sum = await c.allReduceSum(inputs[c.rank]!, "base");
      const mean = await c.allReduceMeanStart(inputs[c.rank]!, "outer").wait();
      const root = await c.broadcast(inputs[c.rank]!, 1, "base");
      const next = (c.rank + 1) % n;
      const prev = (c.rank + n - 1) % n;
      const got = await c.neighborExchange([{ rank: next, data: sum }], [prev], "compressed");
      await c.barrier();
      return [sum, mean, root, got.get(prev)!].map(bits);
    }));
    return { out, stats: comms.map((c) => c.stats()) };
  };
  const memory = await withComms("memory", n, script, { segmentBytes: 400 });
  const tcp = await withComms("tcp", n, script, { segmentBytes: 400 });
  const thread = await withComms("thread", n, script, { segmentBytes: 400 });
  assert.deepEqual(tcp.out, memory.out);
  assert.deepEqual(thread.out, memory.out);
  assert.deepEqual(memory.out[0], memory.out[2]);
  assert.deepEqual(tcp.stats, memory.stats);
  assert.deepEqual(thread.stats, memory.stats);
});

Deno.test("in-place all-reduces write the result into the given buffer", async () => {
  const inputs = vectors(3, 101, 3);
  const transports = createMemoryTransports(3);
  try {
    const comms = transports.map((t) => createCommunicator(t, { segmentBytes: 40 }));
    const buffers = inputs.map((v) => v.slice());
    const sums = await Promise.all(
      comms.map((c) => c.allReduceSumInPlace(buffers[c.rank]!, "base")),
    );
    sums.forEach((sum, rank) => assert.equal(sum, buffers[rank]));
    assert.deepEqual(bits(sums[1]!), bits(ringOrderSum(inputs)));
    buffers.forEach((buffer, rank) => buffer.set(inputs[rank]!));
    const means = await Promise.all(
      comms.map((c) => c.allReduceMeanInPlace(buffers[c.rank]!, "base")),
    );
    assert.deepEqual(bits(means[2]!), bits(ringOrderSum(inputs).map((x) => x / 3)));
  } finally {
    await Promise.all(transports.map((t) => t.close()));
  }
});

Deno.test("createCommunicator refuses a segment size that is not a multiple of 4", () => {
  const [transport] = createMemoryTransports(1);
  assert.throws(() => createCommunicator(transport!, { segmentBytes: 6 }), {
    message: "Segment size must be a positive multiple of 4 bytes, got 6",
  });
});
