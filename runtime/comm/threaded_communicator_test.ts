import assert from "node:assert/strict";
import { startCommThread, type ThreadedCommunicator } from "./threaded_communicator.ts";
import { PeerError } from "./types.ts";

/** `n` communicators, each on its own communication thread. */
async function threadComms(n: number): Promise<ThreadedCommunicator[]> {
  const threads = await Promise.all(Array.from({ length: n }, () => startCommThread()));
  const addresses = threads.map((thread) => thread.address);
  return await Promise.all(
    threads.map((thread, rank) => thread.connect({ rank, size: n, addresses })),
  );
}

/** Keeps this thread busy without yielding to its event loop, like a long model kernel. */
function computeFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* busy */ }
}

Deno.test("a non-blocking all-gather completes while the training thread computes", async () => {
  const comms = await threadComms(3);
  try {
    const pending = comms.map((comm) => comm.allGatherStart(Uint8Array.of(comm.rank), "outer"));
    computeFor(500);
    const gathered = await Promise.all(pending.map((each) => each.wait()));
    for (const all of gathered) assert.deepEqual(all.map((bytes) => [...bytes]), [[0], [1], [2]]);
    for (const each of pending) {
      const elapsed = each.elapsedMs()!;
      assert.ok(elapsed < 500, `the all-gather took ${elapsed} ms, as long as the computation`);
    }
    assert.ok(comms[0]!.stats().sent.outer > 0);
  } finally {
    await Promise.all(comms.map((comm) => comm.close()));
  }
});

Deno.test("a non-blocking all-reduce completes while the training thread computes", async () => {
  const comms = await threadComms(3);
  try {
    const pending = comms.map((comm) =>
      comm.allReduceMeanStart(Float32Array.of(comm.rank, 2 * comm.rank), "base")
    );
    // Nothing here yields, so only the communication threads can move the ring. The all-reduce
    // of two floats finished there long before this thread looks again.
    computeFor(500);
    const means = await Promise.all(pending.map((each) => each.wait()));
    for (const mean of means) assert.deepEqual([...mean], [1, 2]);
    for (const each of pending) {
      const elapsed = each.elapsedMs()!;
      assert.ok(elapsed < 500, `the all-reduce took ${elapsed} ms, as long as the computation`);
    }
    assert.ok(comms[0]!.stats().sent.base > 0);
  } finally {
    await Promise.all(comms.map((comm) => comm.close()));
  }
});

Deno.test("a closed communication thread rejects calls, and its peers see it leave", async () => {
  const comms = await threadComms(2);
  try {
    await comms[1]!.close();
    await assert.rejects(comms[1]!.barrier(), /The communication thread is closed/);
    await assert.rejects(comms[0]!.allReduceSum(new Float32Array(4), "base"), PeerError);
  } finally {
    await Promise.all(comms.map((comm) => comm.close()));
  }
});

Deno.test("a communication thread that cannot listen says where", async () => {
  await assert.rejects(
    startCommThread({ hostname: "203.0.113.1" }),
    /Cannot listen on 203\.0\.113\.1:0/,
  );
});

Deno.test("a rank that computes longer than the peer timeout is not taken for dead", async () => {
  const threads = await Promise.all([startCommThread(), startCommThread()]);
  const addresses = threads.map((thread) => thread.address);
  const comms = await Promise.all(
    threads.map((thread, rank) => thread.connect({ rank, size: 2, addresses, timeoutMs: 400 })),
  );
  try {
    // Rank 1 waits for rank 0, whose training thread (this one) computes for almost four
    // timeouts; rank 0's communication thread tells rank 1 it is alive meanwhile.
    const waiting = comms[1]!.allReduceSum(Float32Array.of(2), "base");
    const until = performance.now() + 1500;
    while (performance.now() < until) { /* a long kernel: the event loop never runs */ }
    const mine = comms[0]!.allReduceSum(Float32Array.of(1), "base");
    assert.deepEqual([...await mine], [3]);
    assert.deepEqual([...await waiting], [3]);
    // Heartbeats went both ways and are counted nowhere.
    for (const comm of comms) {
      assert.equal(comm.stats().sent.control + comm.stats().received.control, 0);
    }
  } finally {
    await Promise.all(comms.map((comm) => comm.close()));
  }
});

Deno.test("a lone rank's all-reduces and barrier are answered here, without the thread", async () => {
  const [comm] = await threadComms(1);
  const data = Float32Array.of(1.5, -2);
  assert.equal(await comm!.allReduceSumInPlace(data, "base"), data);
  assert.equal(await comm!.allReduceMeanInPlace(data, "base"), data);
  const copy = await comm!.allReduceMean(data, "base");
  assert.notEqual(copy, data);
  assert.deepEqual([...copy], [1.5, -2]);
  assert.deepEqual([...await comm!.allReduceMeanStart(data, "outer").wait()], [1.5, -2]);
  // The thread is gone; answering here still works, so no call went to it.
  await comm!.close();
  assert.deepEqual([...await comm!.allReduceSum(data, "base")], [1.5, -2]);
  await comm!.barrier();
  assert.equal(comm!.stats().sent.base, 0);
});
