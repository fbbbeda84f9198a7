import assert from "node:assert/strict";
import { dqSgd } from "../../dsl/compressors/mod.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { FRAME_HEADER_BYTES } from "../comm/wire.ts";
import { randomStream } from "../random.ts";
import { dqSgdBits, type DqSgdHistory } from "./dq_sgd.ts";
import { quantizedCodeBytes } from "./qsgd.ts";
import { createChannel } from "./registry.ts";

const NODE = dqSgd({ minBits: 2, maxBits: 8, budgetBits: 4, bucket: 64 });

/** The history after `c` exchanges that spent `spent` bits, with the given norms. */
function history(c: number, spent: number, firstNorm = 0, smallestNorm = 0): DqSgdHistory {
  return { spentBits: spent, exchanges: c, firstNorm, smallestNorm };
}

/**
 * The widths of a whole run of `steps` steps with an exchange after every step `k` with
 * `(k + 1) mod every == 0`, the averaged norm after exchange `c` being `norm(c)`: the history
 * every rank keeps, modelled.
 */
function widthsOfRun(
  node: typeof NODE,
  steps: number,
  every: number,
  norm: (c: number) => number,
): number[] {
  const widths: number[] = [];
  let spent = 0;
  let first = 0;
  let smallest = 0;
  for (let k = every - 1; k < steps; k += every) {
    const c = widths.length;
    const bits = dqSgdBits(node, k, steps, history(c, spent, first, smallest));
    widths.push(bits);
    spent += bits;
    if (c === 0) first = smallest = norm(c);
    smallest = Math.min(smallest, norm(c));
  }
  return widths;
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Holds a whole run's widths to the rule's promises: budget, range, never falling. */
function assertFaithful(widths: readonly number[], budget: number, label: string): void {
  assert.ok(Math.abs(mean(widths) - budget) < 0.05, `${label}: mean ${mean(widths)}`);
  for (let c = 1; c < widths.length; c++) {
    assert.ok(widths[c]! >= widths[c - 1]!, `${label}: width falls at ${c}: ${widths.join("")}`);
  }
  const tenth = widths.slice(-Math.ceil(widths.length / 10));
  assert.ok(Math.min(...tenth) >= budget, `${label}: last tenth ${tenth.join("")} below budget`);
  assert.ok(widths.every((w) => w >= 2 && w <= 8), `${label}: within [2, 8]`);
}

Deno.test("DQ-SGD's width, step by step, against the rule worked by hand", () => {
  // First exchange of 101: r = 100 after it, E = 101, A = 404/101 = 4, half-slope
  // h = 2·100/101 = 1.98: round(2.02) = 2, the bottom of the ramp.
  assert.equal(dqSgdBits(NODE, 0, 101, history(0, 0)), 2);
  // Half-way on budget, norm unchanged: r = 50, A = (404 − 200)/51 = 4, h = 2·50/101 = 0.99:
  // round(3.01) = 3.
  assert.equal(dqSgdBits(NODE, 50, 101, history(50, 200, 1, 1)), 3);
  // The same with the norm down 4-fold (π = ½): h = 0.495, round(3.505) = 4.
  assert.equal(dqSgdBits(NODE, 50, 101, history(50, 200, 4, 1)), 4);
  // Down 16-fold (π = 1): the ramp is flat, A itself.
  assert.equal(dqSgdBits(NODE, 50, 101, history(50, 200, 16, 1)), 4);
  // Overspent (300 bits in 50): A = 104/51 = 2.04, round(2.04 − 0.99) = 1, raised to minBits.
  assert.equal(dqSgdBits(NODE, 50, 101, history(50, 300, 1, 1)), 2);
  // Underspent (100 bits in 50): A = 304/51 = 5.96, round(4.97) = 5.
  assert.equal(dqSgdBits(NODE, 50, 101, history(50, 100, 1, 1)), 5);
  // The last exchange takes what is left, never more: 404 − 398 = 6; 404 − 396 = 8; then maxBits.
  assert.equal(dqSgdBits(NODE, 100, 101, history(100, 398, 1, 1)), 6);
  assert.equal(dqSgdBits(NODE, 100, 101, history(100, 396, 1, 1)), 8);
  assert.equal(dqSgdBits(NODE, 100, 101, history(100, 0)), 8);
  // A fraction of a bit is never spent ahead: at the last of 2 exchanges with 4.5 bits left,
  // A = 4.5 and round(4.5) = 5 is held to ⌊A⌋ = 4.
  assert.equal(dqSgdBits(dqSgd({ budgetBits: 4.5 }), 1, 2, history(1, 4.5, 1, 1)), 4);
  // A base that exchanges every 4th step (k = 3, 7, …) of 100: r = ⌊1·96/4⌋ = 24 after the
  // first exchange, E = 25, h = 2·24/25 = 1.92: round(2.08) = 2; at the last (k = 99, c = 24)
  // r = 0 and the exchange gets what is left.
  assert.equal(dqSgdBits(NODE, 3, 100, history(0, 0)), 2);
  assert.equal(dqSgdBits(NODE, 99, 100, history(24, 94, 1, 1)), 6);
  // One step: the budget itself.
  assert.equal(dqSgdBits(NODE, 0, 1, history(0, 0)), 4);
});

Deno.test("DQ-SGD's widths over a modelled run: at the budget on average, never falling", () => {
  // d = 1000, 4 workers, 100 steps with the defaults (2, 8, 4) and an averaged gradient norm
  // falling as it does in training (the rule reads only the norms and the count). The rule
  // before this one paid an early overspend back in the last steps, ending …4444333322222.
  const defaults = dqSgd();
  for (
    const [label, norm] of [
      ["norm unchanged", () => 1],
      ["norm × 0.95 per step", (c: number) => 0.95 ** c],
      ["norm × 0.98 per step", (c: number) => 0.98 ** c],
      ["norm 1/(1 + c/10)", (c: number) => 1 / (1 + c / 10)],
    ] as const
  ) {
    const widths = widthsOfRun(defaults, 100, 1, norm);
    assertFaithful(widths, 4, label);
    assert.equal(mean(widths), 4, `${label}: an integer budget is spent exactly`);
  }
  // With the norm unchanged the widths climb the whole ramp, from B − δ to B + δ.
  const flat = widthsOfRun(defaults, 100, 1, () => 1);
  assert.equal(flat[0], 2);
  assert.equal(flat.at(-1), 6);
  // Every 4th step (local SGD's sync points), 103 steps: 25 exchanges.
  assertFaithful(widthsOfRun(defaults, 103, 4, (c) => 0.9 ** c), 4, "every 4th step");
  // A budget between integers, and a narrow range.
  const half = dqSgd({ minBits: 2, maxBits: 8, budgetBits: 2.5 });
  assertFaithful(widthsOfRun(half, 100, 1, () => 1), 2.5, "budget 2.5");
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
  assertFaithful(widths[0]!, 4, "channel");
  const half = steps / 2;
  assert.ok(mean(widths[0]!.slice(half)) > mean(widths[0]!.slice(0, half)), "more bits late");
  for (const comm of comms) assert.equal(comm.stats().sent.compressed, expectedBytes);
  assert.equal(channels[0]!.buffers()[0]!.name, "dqSgd.state");
});
