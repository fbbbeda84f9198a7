import assert from "node:assert/strict";
import { topK } from "../../dsl/compressors/mod.ts";
import { compressedBytes } from "../../dsl/explain.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { FRAME_HEADER_BYTES } from "../comm/wire.ts";
import { randomStream } from "../random.ts";
import { createChannel } from "./registry.ts";
import { topKIndices } from "./top_k.ts";

Deno.test("error feedback keeps exactly what was not sent (§3.4)", async () => {
  const d = 6;
  const [comm] = createMemoryCommunicators(1);
  const channel = createChannel(topK({ k: 2 }), { d, steps: 8, comm: comm!, seed: 0 });
  const residual = channel.buffers()[0]!;
  assert.equal(residual.name, "topK.residual");
  const random = randomStream(1, "test");
  // Small integers are exact in float32, so sums can be compared exactly.
  const payloads = Array.from(
    { length: 8 },
    () => Float32Array.from({ length: d }, () => random.integer(9) - 4),
  );
  const offered = new Float64Array(d);
  const delivered = new Float64Array(d);
  for (const [step, payload] of payloads.entries()) {
    const before = Float32Array.from(residual.data, (e, j) => e + payload[j]!);
    // One worker: the mean is exactly what this worker sent.
    const sent = await channel.mean(payload, step);
    const support = [...topKIndices(before, 2)];
    for (let j = 0; j < d; j++) {
      offered[j]! += payload[j]!;
      delivered[j]! += sent[j]!;
      // Sent: the top-2 of e + p, and those coordinates leave the residual; the rest stays.
      assert.equal(sent[j], support.includes(j) ? before[j] : 0, `step ${step}, sent[${j}]`);
      assert.equal(residual.data[j], support.includes(j) ? 0 : before[j], `step ${step}, e[${j}]`);
    }
    const norm = Math.hypot(...residual.data);
    const reported = channel.metrics().residualNorm as number;
    assert.ok(Math.abs(reported - norm) <= 1e-12 * norm, `residual norm ${reported} vs ${norm}`);
  }
  // Everything offered was either delivered or is still waiting in the residual.
  for (let j = 0; j < d; j++) assert.equal(offered[j], delivered[j]! + residual.data[j]!);
});

Deno.test("without error feedback, what is not sent is dropped", async () => {
  const [comm] = createMemoryCommunicators(1);
  const channel = createChannel(topK({ k: 1, errorFeedback: false }), {
    steps: 2,
    d: 3,
    comm: comm!,
    seed: 0,
  });
  assert.deepEqual([...await channel.mean(Float32Array.of(1, -3, 2), 0)], [0, -3, 0]);
  assert.deepEqual([...await channel.mean(Float32Array.of(1, 0, 0), 1)], [1, 0, 0]);
  assert.deepEqual(channel.buffers(), []);
  assert.deepEqual(channel.metrics(), {});
});

Deno.test("the compressed mean is identical on every rank and counts the packed codes", async () => {
  const n = 3;
  const d = 1000;
  const node = topK({ k: 10 });
  const comms = createMemoryCommunicators(n);
  const channels = comms.map((comm) => createChannel(node, { d, steps: 1, comm, seed: 5 }));
  const payloads = comms.map((_, rank) => {
    const random = randomStream(9, "payload", rank);
    return Float32Array.from({ length: d }, () => random.normal());
  });
  const means = await Promise.all(
    channels.map((channel, rank) => channel.mean(payloads[rank]!, 0)),
  );
  // The reference: each rank's top-10 (the first step's residual is the payload), summed in
  // float64 in rank order, divided by n and rounded once.
  const sum = new Float64Array(d);
  for (const payload of payloads) {
    for (const j of topKIndices(payload, 10)) sum[j]! += payload[j]!;
  }
  const expected = Float32Array.from(sum, (value) => value / n);
  for (const mean of means) assert.deepEqual(mean, expected);
  // Each rank sent its code to the n − 1 others, one frame each: (n − 1)(header + code).
  const code = compressedBytes(node, d);
  assert.equal(code, 10 * 4 + Math.ceil(10 * 10 / 8));
  for (const comm of comms) {
    assert.equal(comm.stats().sent.compressed, (n - 1) * (FRAME_HEADER_BYTES + code));
    assert.equal(comm.stats().received.compressed, (n - 1) * (FRAME_HEADER_BYTES + code));
    assert.equal(comm.stats().sent.base, 0);
  }
});
