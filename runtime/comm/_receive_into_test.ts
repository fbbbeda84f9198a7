import assert from "node:assert/strict";
import { isPlaced, PostedPlaces } from "./_receive_into.ts";
import { ringAllReduceSum } from "./_ring.ts";
import { createLocalTcpTransports } from "./tcp_transport.ts";
import type { Transport } from "./types.ts";

Deno.test("posted places: each message takes its turn's place, which it gets only at the same length", () => {
  const out = new Uint8Array(32);
  const places = new PostedPlaces();
  const withdraw = places.post(1, 7, [out.subarray(0, 8), out.subarray(8, 16), out.subarray(16)]);
  assert.equal(places.take(2, 7, 8), null, "another sender");
  assert.equal(places.take(1, 8, 8), null, "another tag");
  const first = places.take(1, 7, 8)!;
  assert.ok(isPlaced(first, out.subarray(0, 8)));
  // A message of another length takes its turn but gets an ordinary buffer.
  assert.equal(places.take(1, 7, 4), null);
  assert.ok(isPlaced(places.take(1, 7, 16)!, out.subarray(16)));
  assert.equal(places.take(1, 7, 16), null, "all used");
  withdraw();
});

Deno.test("posted places: withdrawn places are not used", () => {
  const places = new PostedPlaces();
  const withdraw = places.post(0, 1, [new Uint8Array(4)]);
  withdraw();
  assert.equal(places.take(0, 1, 4), null);
});

/** Transports that record every payload the ring gives back for reuse. */
function recording(transports: Transport[]): { transports: Transport[]; recycled: number[] } {
  const recycled = transports.map(() => 0);
  return {
    recycled,
    transports: transports.map((transport, rank) => {
      const inner = transport as Transport & { recycle(payload: Uint8Array): void };
      const recycle = inner.recycle.bind(inner);
      inner.recycle = (payload) => {
        recycled[rank]!++;
        recycle(payload);
      };
      return inner;
    }),
  };
}

Deno.test("tcp ring all-reduce: the all-gather is read straight into the result, the reduce-scatter is not", async () => {
  const n = 3;
  const d = 3000;
  const segmentFloats = 256;
  const { transports, recycled } = recording(await createLocalTcpTransports(n));
  try {
    const data = transports.map((_, rank) =>
      Float32Array.from({ length: d }, (_, i) => rank * 1000 + i)
    );
    await Promise.all(
      transports.map((t, rank) => ringAllReduceSum(t, 0, data[rank]!, "base", segmentFloats)),
    );
    for (const out of data) {
      assert.deepEqual(out, Float32Array.from({ length: d }, (_, i) => 3000 + 3 * i));
    }
    // Chunks of 1000 floats, 4 segments each: n − 1 = 2 reduce-scatter steps give back their
    // 8 payloads; the 8 of the all-gather were the result's own memory.
    assert.deepEqual(recycled, [8, 8, 8]);
  } finally {
    await Promise.all(transports.map((t) => t.close()));
  }
});
