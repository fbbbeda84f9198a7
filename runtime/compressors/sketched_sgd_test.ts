import assert from "node:assert/strict";
import { sketchedSgd } from "../../dsl/compressors/mod.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { FRAME_HEADER_BYTES } from "../comm/wire.ts";
import { randomStream } from "../random.ts";
import { createChannel } from "./registry.ts";
import { CountSketch } from "./sketched_sgd.ts";

Deno.test("§5.8: a count sketch is linear", () => {
  const d = 500;
  const sketch = new CountSketch(5, 64, d, 3);
  const random = randomStream(1, "ints");
  // Small integers: every sum is exact in float32, so linearity holds bit for bit.
  const a = Float32Array.from({ length: d }, () => random.integer(21) - 10);
  const b = Float32Array.from({ length: d }, () => random.integer(21) - 10);
  const sum = Float32Array.from(a, (value, j) => value + b[j]!);
  const separate = new Float32Array(5 * 64);
  sketch.accumulate(a, separate);
  sketch.accumulate(b, separate);
  const together = new Float32Array(5 * 64);
  sketch.accumulate(sum, together);
  assert.deepEqual(separate, together);
  // Every worker derives the same hashes from the seed.
  const again = new Float32Array(5 * 64);
  new CountSketch(5, 64, d, 3).accumulate(sum, again);
  assert.deepEqual(again, together);
});

Deno.test("§5.8: a heavy coordinate is recovered from a small sketch", () => {
  const d = 10_000;
  const random = randomStream(2, "noise");
  const v = Float32Array.from({ length: d }, () => random.normal() * 0.01);
  v[4321] = 5;
  const sketch = new CountSketch(5, 200, d, 11);
  const table = new Float32Array(5 * 200);
  sketch.accumulate(v, table);
  const estimates = sketch.estimates(table);
  // Each counter holds about 50 noise values of scale 0.01: the median of 5 rows is within 0.1.
  assert.ok(Math.abs(estimates[4321]! - 5) < 0.1, `estimate ${estimates[4321]}`);
  let largest = 0;
  for (let j = 1; j < d; j++) {
    if (Math.abs(estimates[j]!) > Math.abs(estimates[largest]!)) largest = j;
  }
  assert.equal(largest, 4321);
});

Deno.test("a sketch with as many columns as coordinates has no collisions: estimates are exact", () => {
  const d = 97;
  const sketch = new CountSketch(3, 100, d, 5);
  const v = Float32Array.from({ length: d }, (_, j) => j - 40);
  const table = new Float32Array(3 * 100);
  sketch.accumulate(v, table);
  assert.deepEqual(sketch.estimates(table), v);
});

/**
 * The reference of §3.3 with exact sums instead of sketches ("true top-k"), in float32 like the
 * runtime: `u = ρu + g`; `v += u`; Δ = top-k of Σ_i v_i; zero `u`, `v` on the support.
 */
function trueTopK(gradients: Float32Array[][], k: number, rho: number): Float32Array[] {
  const n = gradients[0]!.length;
  const d = gradients[0]![0]!.length;
  const u = Array.from({ length: n }, () => new Float32Array(d));
  const v = Array.from({ length: n }, () => new Float32Array(d));
  return gradients.map((step) => {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        u[i]![j] = rho * u[i]![j]! + step[i]![j]!;
        v[i]![j] = v[i]![j]! + u[i]![j]!;
      }
    }
    const sum = Float64Array.from({ length: d }, (_, j) => v.reduce((s, vi) => s + vi[j]!, 0));
    const order = [...sum.keys()].sort((a, b) => Math.abs(sum[b]!) - Math.abs(sum[a]!) || a - b);
    const mean = new Float32Array(d);
    for (const j of order.slice(0, k)) {
      mean[j] = sum[j]! / n;
      for (let i = 0; i < n; i++) u[i]![j] = v[i]![j] = 0;
    }
    return mean;
  });
}

for (const p2 of [0, 2]) {
  Deno.test(`Sketched SGD (p2 ${p2}) with a collision-free sketch equals true top-k`, async () => {
    const n = 3;
    const d = 40;
    const node = sketchedSgd({ k: 4, rows: 3, cols: 41, p2, rho: 0.9 });
    const comms = createMemoryCommunicators(n);
    const channels = comms.map((comm) => createChannel(node, { d, steps: 6, comm, seed: 8 }));
    const gradients = Array.from({ length: 6 }, (_, k) =>
      comms.map((comm) => {
        const random = randomStream(3, "g", comm.rank, k);
        return Float32Array.from({ length: d }, () => random.normal());
      }));
    const expected = trueTopK(gradients, 4, 0.9);
    for (const [k, step] of gradients.entries()) {
      const means = await Promise.all(
        channels.map((channel, rank) => channel.mean(step[rank]!, k)),
      );
      for (const mean of means) {
        assert.equal(mean.filter((value) => value !== 0).length, 4, `step ${k}: k coordinates`);
        mean.forEach((value, j) =>
          assert.ok(Math.abs(value - expected[k]![j]!) < 1e-5, `step ${k}[${j}]: ${value}`)
        );
      }
    }
    // One all-reduce of 3 × 41 floats per step, and with p2 = 2 one more of 8 exact values.
    const ring = (floats: number) => 2 * (n - 1) / n * floats * 4;
    const payload = 6 * (ring(3 * 41) + (p2 > 0 ? ring(8) : 0));
    const sent = comms[0]!.stats().sent.compressed;
    assert.ok(sent >= payload && sent <= payload + 6 * 2 * 2 * (n - 1) * FRAME_HEADER_BYTES);
    assert.deepEqual(channels[0]!.buffers().map((buffer) => buffer.name), [
      "sketchedSgd.momentum",
      "sketchedSgd.error",
    ]);
  });
}
