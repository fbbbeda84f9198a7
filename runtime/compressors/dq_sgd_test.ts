import assert from "node:assert/strict";
import { dqSgd } from "../../dsl/compressors/mod.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { FRAME_HEADER_BYTES } from "../comm/wire.ts";
import { randomStream } from "../random.ts";
import { dqSgdBits } from "./dq_sgd.ts";
import { quantizedCodeBytes } from "./qsgd.ts";
import { createChannel } from "./registry.ts";

const NODE = dqSgd({ minBits: 2, maxBits: 8, budgetBits: 4, bucket: 64 });

Deno.test("DQ-SGD's width rises with training and with a shrinking averaged norm", () => {
  const fresh = { spentBits: 0, exchanges: 0, firstNorm: 0, lastNorm: 0 };
  const onBudget = (k: number) => ({ ...fresh, spentBits: 4 * k, exchanges: k });
  // The first exchange: no progress yet, B − δ.
  assert.equal(dqSgdBits(NODE, 0, 101, fresh), 2);
  // Half the steps and a norm that has not moved: progress ¼, width 4 − 2·½ = 3.
  assert.equal(dqSgdBits(NODE, 50, 101, { ...onBudget(50), firstNorm: 1, lastNorm: 1 }), 3);
  // Half the steps and the norm halved twice: progress ½, the budget itself.
  assert.equal(dqSgdBits(NODE, 50, 101, { ...onBudget(50), firstNorm: 4, lastNorm: 1 }), 4);
  // The end, with the norm down 16-fold: B + δ.
  assert.equal(dqSgdBits(NODE, 100, 101, { ...onBudget(100), firstNorm: 16, lastNorm: 1 }), 6);
  // Overspending is paid back over the exchanges still expected (here 50 more).
  const over = { ...onBudget(50), spentBits: 300, firstNorm: 4, lastNorm: 1 };
  assert.equal(dqSgdBits(NODE, 50, 101, over), 2);
  // Always within [minBits, maxBits].
  assert.equal(dqSgdBits(NODE, 100, 101, { ...onBudget(100), spentBits: 0 }), 8);
});

Deno.test("DQ-SGD: every rank picks the same width, spends its budget, counts its codes", async () => {
  const n = 3;
  const d = 200;
  const steps = 60;
  const comms = createMemoryCommunicators(n);
  const channels = comms.map((comm) => createChannel(NODE, { d, steps, comm, seed: 4 }));
  const widths: number[][] = comms.map(() => []);
  let expectedBytes = 0;
  for (let k = 0; k < steps; k++) {
    // Gradients that shrink over training, different on every rank.
    const payloads = comms.map((comm) => {
      const random = randomStream(9, "payload", comm.rank, k);
      return Float32Array.from({ length: d }, () => random.normal() / (1 + k / 10));
    });
    await Promise.all(channels.map((channel, rank) => channel.mean(payloads[rank]!, k)));
    channels.forEach((channel, rank) => widths[rank]!.push(channel.metrics().bits as number));
    expectedBytes += (n - 1) *
      (FRAME_HEADER_BYTES + quantizedCodeBytes(d, 2 ** widths[0]!.at(-1)! - 1, 64));
  }
  for (const each of widths) assert.deepEqual(each, widths[0]);
  const mean = widths[0]!.reduce((a, b) => a + b, 0) / steps;
  assert.ok(Math.abs(mean - 4) <= 0.5, `mean width ${mean} for a budget of 4`);
  const half = steps / 2;
  const early = widths[0]!.slice(0, half).reduce((a, b) => a + b, 0) / half;
  const late = widths[0]!.slice(half).reduce((a, b) => a + b, 0) / half;
  assert.ok(late > early, `more bits late (${late}) than early (${early})`);
  for (const comm of comms) assert.equal(comm.stats().sent.compressed, expectedBytes);
  assert.equal(channels[0]!.buffers()[0]!.name, "dqSgd.state");
});
