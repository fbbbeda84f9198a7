import assert from "node:assert/strict";
import type { Communicator } from "../comm/types.ts";
import { timeCommunicator } from "./timed_communicator.ts";

/** A communicator whose barriers wait until the test releases them. */
function heldBarriers() {
  const releases: (() => void)[] = [];
  const comm = {
    rank: 0,
    size: 2,
    barrier: () => new Promise<void>((resolve) => releases.push(resolve)),
  } as unknown as Communicator;
  return { comm, release: () => releases.shift()!() };
}

/** Waits (bounded) until `done()` holds. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(done());
}

Deno.test("timeCommunicator reports a long wait once, and its end once, across overlapping collectives", async () => {
  const { comm, release } = heldBarriers();
  const changes: boolean[] = [];
  const timed = timeCommunicator(comm, { afterMs: 0, change: (waiting) => changes.push(waiting) });
  const first = timed.barrier();
  const second = timed.barrier();
  await until(() => changes.length === 1);
  assert.deepEqual(changes, [true]);
  release();
  await first;
  assert.deepEqual(changes, [true], "the second collective still waits");
  release();
  await second;
  assert.deepEqual(changes, [true, false]);
});

Deno.test("timeCommunicator reports nothing for collectives that end before the notice", async () => {
  const changes: boolean[] = [];
  const comm = { rank: 0, size: 1, barrier: () => Promise.resolve() } as unknown as Communicator;
  const timed = timeCommunicator(comm, {
    afterMs: 60_000,
    change: (waiting) => changes.push(waiting),
  });
  await timed.barrier();
  await timed.barrier();
  assert.deepEqual(changes, []);
});
