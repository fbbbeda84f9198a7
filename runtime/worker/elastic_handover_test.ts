import assert from "node:assert/strict";
import { createMemoryTransports } from "../comm/memory_transport.ts";
import { createCommunicator } from "../comm/communicator.ts";
import { handOverState } from "./worker_loop.ts";
import { packState, type WorkerState } from "../worker_state.ts";
import { FRAME_HEADER_BYTES } from "../comm/wire.ts";
import { PHASES, zeroBytes } from "../../dsl/traffic.ts";
import { network } from "../../dsl/network.ts";
import { ArrivalBoard, VirtualClock, virtualWorker } from "../comm/virtual_clock.ts";
import { LinkSchedule } from "../network/links.ts";

Deno.test("a joiner gets the donor's state exactly, and every member's next collective still lines up", async () => {
  const comms = createMemoryTransports(3).map((transport) => createCommunicator(transport));
  const donorState: WorkerState = {
    buffers: [
      { name: "x", data: Float32Array.of(1.5, -2, 3.25) },
      { name: "outer.global", data: Float64Array.of(0.1, 1 / 3) },
    ],
    virtualMs: null,
  };
  const asked: number[] = [];
  const received = await Promise.all(
    comms.map((comm) =>
      handOverState(comm, { joined: [2], donor: 0 }, () => {
        asked.push(comm.rank);
        return donorState;
      })
    ),
  );
  assert.deepEqual(asked, [0], "only the donor packs its state");
  assert.equal(received[0], null);
  assert.equal(received[1], null);
  assert.deepEqual(received[2], donorState);
  // Its bytes are the state phase's alone: one frame, header and packed state, donor to joiner.
  const frame = FRAME_HEADER_BYTES + packState(donorState).byteLength;
  const stats = comms.map((comm) => comm.stats());
  assert.deepEqual(stats[0]!.sent, { ...zeroBytes(), state: frame });
  assert.deepEqual(stats[2]!.received, { ...zeroBytes(), state: frame });
  for (const [rank, { sent, received }] of stats.entries()) {
    if (rank !== 0) assert.deepEqual(sent, zeroBytes(), `rank ${rank} sent`);
    if (rank !== 2) assert.deepEqual(received, zeroBytes(), `rank ${rank} received`);
  }
  // The hand-over took one tag on every member: an all-reduce right after it sums correctly.
  const sums = await Promise.all(
    comms.map((comm) => comm.allReduceSum(Float32Array.of(comm.rank + 1), "base")),
  );
  for (const sum of sums) assert.deepEqual([...sum], [6]);
});

Deno.test("two joiners: the donor sends each its own frame in the state phase, after the other phases' indices", async () => {
  // "state" was added last, so frames of the older phases keep their index on the wire.
  assert.deepEqual(PHASES, ["base", "outer", "compressed", "control", "state"]);
  const comms = createMemoryTransports(4).map((transport) => createCommunicator(transport));
  const donorState: WorkerState = {
    buffers: [{ name: "x", data: new Float32Array(1000).fill(0.5) }],
    virtualMs: null,
  };
  const received = await Promise.all(
    comms.map((comm) => handOverState(comm, { joined: [1, 3], donor: 2 }, () => donorState)),
  );
  assert.deepEqual(received.map((state) => state !== null), [false, true, false, true]);
  // 1000 float32 values alone are 4000 bytes: the packed state holds at least those.
  const packed = packState(donorState).byteLength;
  assert.ok(packed >= 4000);
  const sent = comms.map((comm) => comm.stats().sent.state);
  const got = comms.map((comm) => comm.stats().received.state);
  assert.deepEqual(sent, [0, 0, 2 * (FRAME_HEADER_BYTES + packed), 0]);
  assert.deepEqual(got, [0, FRAME_HEADER_BYTES + packed, 0, FRAME_HEADER_BYTES + packed]);
  assert.equal(comms[2]!.stats().sent.control, 0);
});

Deno.test("without joiners there is nothing to hand over and no collective", async () => {
  const [comm] = createMemoryTransports(1).map((transport) => createCommunicator(transport));
  const state = () => {
    throw new Error("never asked");
  };
  assert.equal(await handOverState(comm!, { joined: [], donor: null }, state), null);
});

Deno.test("on the virtual clock the hand-over is charged: the joiner's time goes on from the donor's, after the frame's transfer", async () => {
  const net = network({ latency: "5ms", bandwidth: "1Mbit" });
  const board = new ArrivalBoard();
  const clocks = [0, 1].map(() => new VirtualClock());
  const comms = createMemoryTransports(2).map((transport, rank) => {
    const worker = virtualWorker(transport, clocks[rank]!, new LinkSchedule(net, rank, 0), board);
    return worker.wrap(createCommunicator(worker.transport));
  });
  // The donor trained on to 100 ms while the joiner was away, its clock left at 20 ms.
  clocks[0]!.now = 100;
  clocks[1]!.now = 20;
  const state: WorkerState = {
    buffers: [{ name: "x", data: new Float32Array(2000).fill(1) }],
    virtualMs: null,
  };
  await Promise.all(
    comms.map((comm) => handOverState(comm, { joined: [1], donor: 0 }, () => state)),
  );
  const frame = FRAME_HEADER_BYTES + packState(state).byteLength;
  // Serialised at 1 Mbit/s, then 5 ms on the wire: over 64 ms for 8 kB.
  const transfer = frame * 8 / 1e6 * 1000 + 5;
  assert.ok(Math.abs(clocks[1]!.now - (100 + transfer)) < 1e-9, `joiner at ${clocks[1]!.now} ms`);
});
