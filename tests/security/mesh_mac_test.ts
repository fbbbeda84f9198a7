/**
 * Mesh frames against an on-path attacker without the secret (issue 20, item 6): a proxy
 * between two mesh peers lets the handshake through and then alters, replays or drops a data
 * frame. With `macFrames` the receiver fails the sender's link naming it; without it (the
 * default, whose cost is measured in `bench/mac_mesh.ts`) the altered bytes arrive as sent.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connectTcpMesh, listenTcp } from "../../runtime/comm/tcp_transport.ts";
import type { Transport } from "../../runtime/comm/types.ts";
import { FRAME_MAC_BYTES } from "../../runtime/comm/frame_mac.ts";
import { FRAME_HEADER_BYTES } from "../../runtime/comm/wire.ts";
import { type Rewriter, startProxy, untouched } from "./_proxy.ts";
import { start } from "../runtime/_processes.ts";
import { tempRunFolder } from "../runtime/_plans.ts";

const SECRET = new TextEncoder().encode("0123456789abcdef0123456789abcdef");

/** Two ranks whose one connection (rank 1 dials rank 0) runs through a proxy. */
async function proxiedPair(macFrames: boolean, upstream: Rewriter) {
  const opened = [listenTcp(), listenTcp()];
  const proxy = startProxy(
    opened[0]!.address,
    upstream,
    untouched,
    macFrames ? FRAME_MAC_BYTES : 0,
  );
  const addresses = opened.map((each) => each.address);
  const ranks = await Promise.all(opened.map((each, rank) =>
    connectTcpMesh({
      rank,
      size: 2,
      listener: each.listener,
      addresses: rank === 1 ? [proxy.address, addresses[1]!] : addresses,
      secret: SECRET,
      timeoutMs: 10_000,
      macFrames,
    })
  ));
  return {
    ranks: ranks as [Transport, Transport],
    async close() {
      await Promise.all(ranks.map((rank) => rank.close()));
      await proxy.close();
    },
  };
}

/** Sets the first payload byte of every data frame to 42. */
const rewriteFirstByte: Rewriter = (frame) => {
  if (frame.byteLength > FRAME_HEADER_BYTES) frame[FRAME_HEADER_BYTES] = 42;
  return [frame];
};

const ALTERED =
  /^Worker 1 sent mesh frame 0, which failed authentication: the connection was altered on its way/;

Deno.test("without macFrames a proxy's rewrite of a mesh frame goes unnoticed (the default)", async () => {
  const { ranks: [a, b], close } = await proxiedPair(false, rewriteFirstByte);
  try {
    await b.send(0, 1, new Uint8Array([1, 2, 3, 4]), "base");
    assert.deepEqual([...await a.recv(1, 1)], [42, 2, 3, 4]);
  } finally {
    await close();
  }
});

Deno.test("with macFrames a mesh frame rewritten by a proxy fails the peer, naming it", async () => {
  const { ranks: [a, b], close } = await proxiedPair(true, rewriteFirstByte);
  try {
    await b.send(0, 1, new Uint8Array([1, 2, 3, 4]), "base");
    await assert.rejects(a.recv(1, 1), { message: ALTERED });
  } finally {
    await close();
  }
});

Deno.test("with macFrames a replayed or dropped mesh frame fails the peer, naming it", async () => {
  const cases: [Rewriter, RegExp][] = [
    // Frame 0 twice: the copy is checked as frame 1.
    [(frame, index) => index === 0 ? [frame, frame.slice()] : [frame], /sent mesh frame 1, which/],
    // Frame 0 dropped: frame 1 is checked as frame 0.
    [(frame, index) => index === 0 ? [] : [frame], ALTERED],
  ];
  for (const [rewrite, expected] of cases) {
    const { ranks: [a, b], close } = await proxiedPair(true, rewrite);
    try {
      await b.send(0, 1, new Uint8Array([1, 2, 3, 4]), "base");
      await b.send(0, 2, new Uint8Array([5, 6, 7, 8]), "base");
      // The replay: tag 1 arrives, then its copy fails. The drop: tag 2's frame fails.
      const received = await Promise.allSettled([a.recv(1, 1), a.recv(1, 2)]);
      const failure = received.find((each) => each.status === "rejected");
      assert.ok(failure !== undefined, "every frame was accepted");
      assert.match((failure as PromiseRejectedResult).reason.message, expected);
    } finally {
      await close();
    }
  }
});

Deno.test("with macFrames through an untouched proxy the frames arrive and MAC bytes are counted", async () => {
  const { ranks: [a, b], close } = await proxiedPair(true, untouched);
  try {
    const payload = Float32Array.from({ length: 40_000 }, (_, i) => i);
    const bytes = new Uint8Array(payload.buffer);
    await b.send(0, 1, bytes, "base");
    await b.send(0, 2, new Uint8Array([9]), "base");
    assert.deepEqual(await a.recv(1, 1), bytes);
    assert.deepEqual([...await a.recv(1, 2)], [9]);
    const frames = 2 * (FRAME_HEADER_BYTES + FRAME_MAC_BYTES) + bytes.byteLength + 1;
    assert.equal(b.stats().sent.base, frames);
    assert.equal(a.stats().received.base, frames);
  } finally {
    await close();
  }
});

Deno.test("with macFrames on a declared network, heartbeats written while frames wait keep the sequence", async () => {
  const opened = [listenTcp(), listenTcp()];
  const addresses = opened.map((each) => each.address);
  // Every message arrives 300 ms after it is sent; heartbeats go out every 40 ms meanwhile.
  const shaper = {
    transfer: (_to: number, _bytes: number, t: number) => ({ leftAt: t, arriveAt: t + 300 }),
  };
  const [a, b] = await Promise.all(opened.map((each, rank) =>
    connectTcpMesh({
      rank,
      size: 2,
      listener: each.listener,
      addresses,
      secret: SECRET,
      timeoutMs: 10_000,
      heartbeatMs: 40,
      shaper,
      macFrames: true,
    })
  ));
  try {
    await b!.send(0, 1, new Uint8Array([1, 2]), "base");
    await b!.send(0, 2, new Uint8Array([3]), "base");
    assert.deepEqual([...await a!.recv(1, 1)], [1, 2]);
    assert.deepEqual([...await a!.recv(1, 2)], [3]);
    assert.equal(a!.stats().received.base, 2 * (FRAME_HEADER_BYTES + FRAME_MAC_BYTES) + 3);
  } finally {
    await Promise.all([a!.close(), b!.close()]);
  }
});

Deno.test("gossamer run --mac-mesh trains the same parameters, with 16 more socket bytes per mesh frame", async () => {
  const parent = await tempRunFolder();
  try {
    const runs = ["", "--mac-mesh"].map((flag) =>
      start(
        ...["run", "examples/least_squares.ts", "--out", `${parent}/run${flag}`, "--quiet"],
        ...(flag === "" ? [] : [flag]),
      )
    );
    for (const { output } of runs) {
      const { code, stderr } = await output;
      assert.equal(code, 0, stderr);
    }
    const read = async (run: string, file: string) =>
      await Deno.readTextFile(`${parent}/${run}/${file}`);
    assert.equal(await read("run--mac-mesh", "params.json"), await read("run", "params.json"));
    const [plain, mac] = await Promise.all(
      ["run", "run--mac-mesh"].map(async (run) => JSON.parse(await read(run, "summary.json"))),
    );
    assert.equal(plain.macMesh, undefined);
    assert.equal(mac.macMesh, true);
    // Gossip on a ring of linear(dim 3) models: each base frame is a 12-byte header and three
    // floats, 24 bytes, and goes over a socket; with MACs each is 40.
    for (const [worker, bytes] of plain.bytes.entries()) {
      const frames = bytes.sent.base / 24;
      assert.ok(Number.isInteger(frames) && frames > 0);
      assert.equal(mac.bytes[worker].sent.base, 40 * frames);
      assert.equal(mac.bytes[worker].received.base, bytes.received.base / 24 * 40);
    }
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
