/**
 * The conformance suite every transport runs (one shared suite, several implementations):
 * delivery, ordering per (sender, tag), tags that never mix, copies at send time, exact byte
 * counts, receive timeouts, disconnections and closing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { PeerError, type Phase, type TrafficStats, type Transport } from "./types.ts";
import { FRAME_HEADER_BYTES } from "./wire.ts";

/** Builds `n` connected transports; the suite closes them. */
export type TransportFactory = (
  n: number,
  options?: { timeoutMs?: number },
) => Promise<Transport[]>;

/** Runs `body` over fresh transports and closes every one of them afterwards. */
export async function withTransports(
  make: TransportFactory,
  n: number,
  options: { timeoutMs?: number },
  body: (transports: Transport[]) => Promise<void>,
): Promise<void> {
  const transports = await make(n, options);
  try {
    await body(transports);
  } finally {
    await Promise.all(transports.map((transport) => transport.close()));
  }
}

/** A fixed message script, the same for every transport. */
export const TRAFFIC_SCRIPT: readonly {
  from: number;
  to: number;
  tag: number;
  bytes: number;
  phase: Phase;
}[] = [
  { from: 0, to: 1, tag: 1, bytes: 40, phase: "base" },
  { from: 1, to: 0, tag: 1, bytes: 0, phase: "control" },
  { from: 2, to: 0, tag: 9, bytes: 1000, phase: "outer" },
  { from: 0, to: 2, tag: 9, bytes: 3, phase: "compressed" },
  { from: 1, to: 2, tag: 4, bytes: 70_000, phase: "base" },
  { from: 2, to: 1, tag: 4, bytes: 8, phase: "base" },
];

/**
 * Plays {@linkcode TRAFFIC_SCRIPT} on three transports.
 *
 * @returns Every rank's traffic afterwards.
 */
export async function playTrafficScript(transports: Transport[]): Promise<TrafficStats[]> {
  await Promise.all(TRAFFIC_SCRIPT.map(async (m) => {
    await transports[m.from]!.send(m.to, m.tag, new Uint8Array(m.bytes), m.phase);
    assert.equal((await transports[m.to]!.recv(m.from, m.tag)).byteLength, m.bytes);
  }));
  return transports.map((transport) => transport.stats());
}

/** The traffic {@linkcode TRAFFIC_SCRIPT} must produce, computed by hand from the frame size. */
export function expectedScriptTraffic(n: number): TrafficStats[] {
  const zero = () => ({ base: 0, outer: 0, compressed: 0, control: 0, state: 0 });
  const stats = Array.from({ length: n }, () => ({ sent: zero(), received: zero() }));
  for (const m of TRAFFIC_SCRIPT) {
    stats[m.from]!.sent[m.phase] += FRAME_HEADER_BYTES + m.bytes;
    stats[m.to]!.received[m.phase] += FRAME_HEADER_BYTES + m.bytes;
  }
  return stats;
}

const bytes = (...values: number[]) => new Uint8Array(values);

/**
 * Registers the conformance tests of one transport.
 *
 * @param label Transport name used in the test names.
 * @param make Builds connected transports.
 */
export function transportConformance(label: string, make: TransportFactory): void {
  const test = (name: string, fn: () => Promise<void>) =>
    Deno.test(`${label} transport conformance: ${name}`, fn);

  test("delivers payloads and reports rank and size", () =>
    withTransports(make, 3, {}, async (ts) => {
      assert.deepEqual(ts.map((t) => [t.rank, t.size]), [[0, 3], [1, 3], [2, 3]]);
      const waiting = ts[2]!.recv(0, 7);
      await ts[0]!.send(2, 7, bytes(1, 2, 3), "base");
      assert.deepEqual([...await waiting], [1, 2, 3]);
      await ts[1]!.send(0, 7, bytes(), "base");
      assert.equal((await ts[0]!.recv(1, 7)).byteLength, 0);
    }));

  test("keeps order per sender and tag", () =>
    withTransports(make, 2, {}, async ([a, b]) => {
      const sends = Array.from({ length: 200 }, (_, i) => a!.send(1, 3, bytes(i % 256), "base"));
      for (let i = 0; i < 200; i++) assert.equal((await b!.recv(0, 3))[0], i % 256);
      await Promise.all(sends);
    }));

  test("never mixes tags or senders", () =>
    withTransports(make, 3, {}, async ([a, b, c]) => {
      await a!.send(2, 2, bytes(20), "base");
      await a!.send(2, 1, bytes(10), "base");
      await b!.send(2, 1, bytes(11), "base");
      await b!.send(2, 2 ** 32 - 1, bytes(12), "base");
      assert.deepEqual([...await c!.recv(1, 1)], [11]);
      assert.deepEqual([...await c!.recv(0, 1)], [10]);
      assert.deepEqual([...await c!.recv(1, 2 ** 32 - 1)], [12]);
      assert.deepEqual([...await c!.recv(0, 2)], [20]);
    }));

  test("the payload may be reused once send resolves", () =>
    withTransports(make, 2, {}, async ([a, b]) => {
      for (const length of [4, 300_000]) {
        const payload = Uint8Array.from({ length }, (_, i) => i % 7);
        await a!.send(1, 0, payload, "base");
        payload.fill(9);
        const got = await b!.recv(0, 0);
        assert.equal(got.byteLength, length);
        assert.ok(got.every((value, i) => value === i % 7));
      }
    }));

  test("carries a large payload intact, aligned for floats", () =>
    withTransports(make, 2, {}, async ([a, b]) => {
      const payload = Uint8Array.from({ length: 5_000_003 }, (_, i) => (i * 31) % 251);
      const [, got] = await Promise.all([a!.send(1, 5, payload, "outer"), b!.recv(0, 5)]);
      assert.deepEqual(got, payload);
      assert.equal(got.byteOffset % 4, 0);
    }));

  test("counts exactly the frame bytes, per phase, sent and received", () =>
    withTransports(make, 3, {}, async (ts) => {
      assert.deepEqual(await playTrafficScript(ts), expectedScriptTraffic(3));
    }));

  test("delivers messages to oneself without counting them", () =>
    withTransports(make, 2, {}, async ([a]) => {
      await a!.send(0, 4, bytes(5), "base");
      assert.deepEqual([...await a!.recv(0, 4)], [5]);
      assert.equal(a!.stats().sent.base + a!.stats().received.base, 0);
    }));

  test("a silent peer makes recv reject with PeerError after the timeout", () =>
    withTransports(make, 2, { timeoutMs: 200 }, async ([a, b]) => {
      const start = performance.now();
      await assert.rejects(a!.recv(1, 0), (error: unknown) => {
        assert.ok(error instanceof PeerError);
        assert.equal(error.peer, 1);
        assert.equal(error.message, "Worker 1 did not answer within 200 ms");
        return true;
      });
      const elapsed = performance.now() - start;
      assert.ok(elapsed >= 150 && elapsed < 2000, `timed out after ${elapsed} ms`);
      // The link still works afterwards.
      await b!.send(0, 0, bytes(1), "base");
      assert.deepEqual([...await a!.recv(1, 0)], [1]);
    }));

  test("a peer that closes is reported as disconnected by rank", () =>
    withTransports(make, 3, {}, async (ts) => {
      const [a, b, c] = ts;
      await c!.send(0, 1, bytes(7), "base");
      const isDisconnected = (error: unknown) => {
        assert.ok(error instanceof PeerError);
        assert.equal(error.peer, 2);
        assert.equal(error.message, "Worker 2 disconnected");
        return true;
      };
      // Handlers are attached before the close, so no rejection goes unhandled.
      const pending = assert.rejects(a!.recv(2, 2), isDisconnected);
      const pendingOnB = assert.rejects(b!.recv(2, 1), isDisconnected);
      const start = performance.now();
      await c!.close();
      await Promise.all([pending, pendingOnB]);
      assert.ok(performance.now() - start < 2000);
      // What arrived before the disconnection is still delivered, then receives reject.
      assert.deepEqual([...await a!.recv(2, 1)], [7]);
      await assert.rejects(a!.recv(2, 1), { name: "PeerError", message: "Worker 2 disconnected" });
      await assert.rejects(a!.send(2, 1, bytes(), "base"), { name: "PeerError" });
      // The others still talk.
      await a!.send(1, 3, bytes(4), "base");
      assert.deepEqual([...await b!.recv(0, 3)], [4]);
    }));

  test("close rejects pending receives and later sends and receives", () =>
    withTransports(make, 2, {}, async ([a]) => {
      const pending = assert.rejects(a!.recv(1, 0), { message: "Worker 0's transport is closed" });
      await a!.close();
      await pending;
      await assert.rejects(a!.recv(1, 0), { message: "Worker 0's transport is closed" });
      await assert.rejects(a!.send(1, 0, bytes(), "base"), {
        message: "Worker 0's transport is closed",
      });
      await a!.close(); // idempotent
    }));

  test("rejects ranks and tags out of range", () =>
    withTransports(make, 2, {}, async ([a]) => {
      await assert.rejects(a!.send(2, 0, bytes(), "base"), {
        name: "RangeError",
        message: "Cannot send to rank 2: ranks are 0..1",
      });
      await assert.rejects(a!.recv(-1, 0), {
        name: "RangeError",
        message: "Cannot receive from rank -1: ranks are 0..1",
      });
      await assert.rejects(a!.send(1, -1, bytes(), "base"), RangeError);
    }));
}
