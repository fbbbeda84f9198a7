import assert from "node:assert/strict";
import { network } from "../../dsl/network.ts";
import type { NetworkNode } from "../../dsl/plan.ts";
import { LinkSchedule } from "../network/links.ts";
import { createCommunicator } from "./communicator.ts";
import { createMemoryTransports } from "./memory_transport.ts";
import type { Communicator } from "./types.ts";
import { ArrivalBoard, VirtualClock, virtualWorker } from "./virtual_clock.ts";

/** `n` communicators on the virtual clock over one network. */
function virtualComms(n: number, net: NetworkNode, segmentBytes?: number) {
  const transports = createMemoryTransports(n);
  const board = new ArrivalBoard();
  const clocks = transports.map(() => new VirtualClock());
  const comms: Communicator[] = transports.map((transport, rank) => {
    const worker = virtualWorker(transport, clocks[rank]!, new LinkSchedule(net, rank, 0), board);
    return worker.wrap(
      createCommunicator(worker.transport, segmentBytes === undefined ? {} : { segmentBytes }),
    );
  });
  return { comms, clocks, close: () => Promise.all(transports.map((t) => t.close())) };
}

// 8 Mbit/s is 1 byte per µs: a message of b payload bytes takes (12 + b) µs to leave.
const NET = network({ bandwidth: "8Mbit", latency: "5ms" });

Deno.test("virtual all-reduce of 2 ranks: two ring steps of one message each", async () => {
  const { comms, clocks, close } = virtualComms(2, NET);
  try {
    const sums = await Promise.all(
      comms.map((comm) => comm.allReduceSum(Float32Array.of(comm.rank, 1), "base")),
    );
    assert.deepEqual([...sums[0]!], [1, 2]);
    // Step 1 leaves at 0 and arrives at 0.016 + 5; step 2 leaves then, arrives 5.016 later.
    for (const clock of clocks) assert.ok(Math.abs(clock.now - 2 * 5.016) < 1e-9, `${clock.now}`);
  } finally {
    await close();
  }
});

Deno.test("virtual time: the slowest sender decides at a blocking collective", async () => {
  const { comms, clocks, close } = virtualComms(3, NET);
  try {
    clocks[1]!.advance(100); // rank 1 computed longer before the exchange
    await Promise.all(comms.map((comm) => {
      const next = (comm.rank + 1) % 3;
      const prev = (comm.rank + 2) % 3;
      return comm.neighborExchange([{ rank: next, data: new Float32Array(247) }], [prev], "base");
    }));
    // 12 + 4·247 = 1000 bytes: 1 ms to leave, 5 ms latency. Rank 2 waits for rank 1's message
    // (sent at 100); ranks 0 and 1 receive messages sent at 0.
    assert.deepEqual(clocks.map((clock) => clock.now), [6, 100, 106]);
  } finally {
    await close();
  }
});

Deno.test("virtual time: a non-blocking all-reduce overlaps computation", async () => {
  for (const compute of [3, 20]) {
    const { comms, clocks, close } = virtualComms(2, NET);
    try {
      const pending = comms.map((comm) => comm.allReduceMeanStart(Float32Array.of(1, 2), "base"));
      for (const clock of clocks) clock.advance(compute);
      await Promise.all(pending.map((each) => each.wait()));
      // The all-reduce takes 10.032 ms whatever the computation does meanwhile.
      for (const clock of clocks) assert.ok(Math.abs(clock.now - Math.max(compute, 10.032)) < 1e-9);
      for (const each of pending) assert.ok(Math.abs(each.elapsedMs()! - 10.032) < 1e-9);
    } finally {
      await close();
    }
  }
});

Deno.test("virtual time: a non-blocking all-gather overlaps computation", async () => {
  for (const compute of [3, 20]) {
    const { comms, clocks, close } = virtualComms(2, NET);
    try {
      // 12 + 988 = 1000 bytes to the other rank: 1 ms to leave, 5 ms latency.
      const pending = comms.map((comm) =>
        comm.allGatherStart(new Uint8Array(988).fill(comm.rank + 1), "outer")
      );
      for (const clock of clocks) clock.advance(compute);
      const gathered = await Promise.all(pending.map((each) => each.wait()));
      for (const clock of clocks) assert.ok(Math.abs(clock.now - Math.max(compute, 6)) < 1e-9);
      for (const each of pending) assert.ok(Math.abs(each.elapsedMs()! - 6) < 1e-9);
      assert.deepEqual(gathered[1]!.map((bytes) => bytes[0]), [1, 2]);
    } finally {
      await close();
    }
  }
});

Deno.test("virtual time: control traffic takes no simulated time and no link", async () => {
  const { comms, clocks, close } = virtualComms(2, NET);
  try {
    await Promise.all(comms.map((comm) => comm.allReduceMean(new Float32Array(1000), "control")));
    await Promise.all(comms.map((comm) => comm.barrier()));
    assert.deepEqual(clocks.map((clock) => clock.now), [0, 0]);
    // The link is still free: a base message right after leaves at once.
    await Promise.all(comms.map((comm) => comm.allReduceSum(Float32Array.of(1, 2), "base")));
    for (const clock of clocks) assert.ok(Math.abs(clock.now - 10.032) < 1e-9);
    // The bytes are counted as on any transport.
    assert.ok(comms[0]!.stats().sent.control > 4000);
  } finally {
    await close();
  }
});
