import assert from "node:assert/strict";
import { Mailbox } from "./_mailbox.ts";
import { PeerError } from "./types.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("a receive times out only after the peer has been silent for the whole timeout", async () => {
  const mailbox = new Mailbox(2, 200);
  const start = performance.now();
  const waiting = mailbox.recv(1, 0);
  // Bytes of any kind from the peer (a heartbeat) push the deadline back.
  const beats = setInterval(() => mailbox.heard(1), 50);
  await sleep(500);
  clearInterval(beats);
  await assert.rejects(waiting, (error: unknown) => {
    assert.ok(error instanceof PeerError);
    assert.equal(error.message, "Worker 1 did not answer within 200 ms");
    return true;
  });
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 650 && elapsed < 2000, `failed after ${elapsed} ms`);
});

Deno.test("a message still arrives while the peer keeps beating", async () => {
  const mailbox = new Mailbox(2, 100);
  const waiting = mailbox.recv(1, 3);
  const beats = setInterval(() => mailbox.heard(1), 25);
  await sleep(300);
  mailbox.deliver(1, 3, new Uint8Array([7]));
  clearInterval(beats);
  assert.deepEqual([...await waiting], [7]);
});

Deno.test("a peer that leaves more bytes than anyone asked for is refused by name", () => {
  const mailbox = new Mailbox(3, 1000, { maxQueuedBytes: 10 });
  mailbox.deliver(2, 0, new Uint8Array(6));
  assert.throws(() => mailbox.deliver(2, 1, new Uint8Array(6)), {
    name: "PeerError",
    message: "Worker 2 sent 12 bytes that nobody has asked for (at most 10 may wait)",
  });
  // Taking a message frees its bytes; other peers have bounds of their own.
  mailbox.deliver(1, 0, new Uint8Array(10));
  return mailbox.recv(2, 0).then(() => mailbox.deliver(2, 1, new Uint8Array(10)));
});

Deno.test("tags far from the ones this rank is at are refused by name", async () => {
  const mailbox = new Mailbox(2, 1000, { tagWindow: 100 });
  mailbox.deliver(1, 50, new Uint8Array(1));
  assert.throws(() => mailbox.deliver(1, 151, new Uint8Array(1)), {
    message: "Worker 1 sent a message with tag 151, outside the tags 0..150 this worker expects",
  });
  const pending = mailbox.recv(1, 300);
  assert.throws(
    () => mailbox.deliver(1, 10, new Uint8Array(1)),
    /tag 10, outside the tags 200\.\.400/,
  );
  mailbox.deliver(1, 300, new Uint8Array([4]));
  assert.deepEqual([...await pending], [4]);
});
