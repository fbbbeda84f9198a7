import assert from "node:assert/strict";
import { exponential, neighbors, onePeerExponential, ring, star, torus } from "./mod.ts";

const t = 1 / 3;

Deno.test("neighbors on a ring of 5 (by hand)", () => {
  assert.deepEqual(neighbors(ring(), 5, 0), {
    selfWeight: t,
    receiveFrom: [{ rank: 1, weight: t }, { rank: 4, weight: t }],
    sendTo: [{ rank: 1, weight: t }, { rank: 4, weight: t }],
  });
});

Deno.test("neighbors on the directed exponential graph of 5 (by hand)", () => {
  // Rank 0 receives from 0 − 1, 0 − 2, 0 − 4 (mod 5) = 4, 3, 1 and sends to 1, 2, 4.
  assert.deepEqual(neighbors(exponential(), 5, 0), {
    selfWeight: 0.25,
    receiveFrom: [{ rank: 1, weight: 0.25 }, { rank: 3, weight: 0.25 }, { rank: 4, weight: 0.25 }],
    sendTo: [{ rank: 1, weight: 0.25 }, { rank: 2, weight: 0.25 }, { rank: 4, weight: 0.25 }],
  });
});

Deno.test("neighbors on a star of 4: the hub and a leaf (by hand)", () => {
  const spokes = [1, 2, 3].map((rank) => ({ rank, weight: 0.25 }));
  assert.deepEqual(neighbors(star(), 4, 0), {
    selfWeight: 0.25,
    receiveFrom: spokes,
    sendTo: spokes,
  });
  assert.deepEqual(neighbors(star(), 4, 2), {
    selfWeight: 0.75,
    receiveFrom: [{ rank: 0, weight: 0.25 }],
    sendTo: [{ rank: 0, weight: 0.25 }],
  });
});

Deno.test("neighbors on a 2×3 torus: the merged vertical neighbour weighs 2/5", () => {
  const { selfWeight, receiveFrom } = neighbors(torus({ rows: 2, cols: 3 }), 6, 0);
  assert.ok(Math.abs(selfWeight - 0.2) < 1e-15);
  assert.deepEqual(receiveFrom.map((peer) => peer.rank), [1, 2, 3]);
  assert.ok(Math.abs(receiveFrom[2]!.weight - 0.4) < 1e-15);
});

Deno.test("neighbors on the one-peer exponential graph of 8 at step 1", () => {
  // e = 1: rank 0 receives from 0 − 2 = 6 and sends to 0 + 2 = 2.
  assert.deepEqual(neighbors(onePeerExponential(), 8, 0, 1), {
    selfWeight: 0.5,
    receiveFrom: [{ rank: 6, weight: 0.5 }],
    sendTo: [{ rank: 2, weight: 0.5 }],
  });
});

Deno.test("neighbors of a single worker is empty", () => {
  assert.deepEqual(neighbors(ring(), 1, 0), { selfWeight: 1, receiveFrom: [], sendTo: [] });
});

Deno.test("neighbors rejects ranks outside 0..n-1", () => {
  for (const rank of [8, -1, 1.5]) {
    assert.throws(() => neighbors(ring(), 8, rank), {
      name: "RangeError",
      message: `Cannot list neighbors: rank "${rank}" is outside ranks 0..7`,
    });
  }
});
