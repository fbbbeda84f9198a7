import assert from "node:assert/strict";
import { createMemoryTransports } from "../comm/memory_transport.ts";
import { createCommunicator } from "../comm/communicator.ts";
import { handOverState } from "./worker_loop.ts";
import type { WorkerState } from "../worker_state.ts";

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
  // The hand-over took one tag on every member: an all-reduce right after it sums correctly.
  const sums = await Promise.all(
    comms.map((comm) => comm.allReduceSum(Float32Array.of(comm.rank + 1), "base")),
  );
  for (const sum of sums) assert.deepEqual([...sum], [6]);
});

Deno.test("without joiners there is nothing to hand over and no collective", async () => {
  const [comm] = createMemoryTransports(1).map((transport) => createCommunicator(transport));
  const state = () => {
    throw new Error("never asked");
  };
  assert.equal(await handOverState(comm!, { joined: [], donor: null }, state), null);
});
