import { deepEqual, equal, ok } from "node:assert/strict";
import { type Bandwidth, bitsPerSecond, type Duration, milliseconds, network } from "./network.ts";

Deno.test("bitsPerSecond: units and the optional /s suffix", () => {
  equal(bitsPerSecond("100Mbit"), 1e8);
  equal(bitsPerSecond("100Mbit/s"), 1e8);
  equal(bitsPerSecond("1Gbit/s"), 1e9);
  equal(bitsPerSecond("2.5kbit"), 2500);
  equal(bitsPerSecond("640bit"), 640);
  equal(bitsPerSecond("1e3kbit"), 1e6);
  equal(bitsPerSecond(5e6), 5e6, "a number is already bits per second");
});

Deno.test("milliseconds: us, ms and s", () => {
  equal(milliseconds("200us"), 0.2);
  equal(milliseconds("5ms"), 5);
  equal(milliseconds("2s"), 2000);
  equal(milliseconds("1.5s"), 1500);
  equal(milliseconds(7), 7, "a number is already milliseconds");
});

Deno.test("bitsPerSecond and milliseconds: text that is not a quantity gives NaN", () => {
  for (const text of ["fast", "100", "100mbit", "Mbit", "-5Mbit", "100 Mbps", ""]) {
    ok(Number.isNaN(bitsPerSecond(text as Bandwidth)), `bitsPerSecond(${JSON.stringify(text)})`);
  }
  for (const text of ["soon", "10", "5 min", "-5ms", "5MS"]) {
    ok(Number.isNaN(milliseconds(text as Duration)), `milliseconds(${JSON.stringify(text)})`);
  }
});

Deno.test("network: defaults are an unlimited, instant, straggler-free network", () => {
  deepEqual(network(), {
    kind: "network",
    bandwidthBitsPerSecond: null,
    latencyMs: 0,
    jitterMs: 0,
    links: [],
    stragglers: null,
    computeMs: null,
    failures: [],
  });
});

Deno.test("network: converts units and fills straggler defaults", () => {
  const net = network({
    bandwidth: "100Mbit",
    latency: "5ms",
    jitter: "200us",
    stragglers: { slowdown: 3 },
  });
  deepEqual(net, {
    kind: "network",
    bandwidthBitsPerSecond: 1e8,
    latencyMs: 5,
    jitterMs: 0.2,
    links: [],
    stragglers: { ranks: [], probability: 0, slowdown: 3, delayMs: 0 },
    computeMs: null,
    failures: [],
  });
  ok(
    Object.isFrozen(net) && Object.isFrozen(net.stragglers) &&
      Object.isFrozen(net.stragglers?.ranks),
  );
});

Deno.test("network: straggler ranks are copied, not shared with the caller", () => {
  const ranks = [1, 2];
  const net = network({ stragglers: { ranks, probability: 0.1, slowdown: 2 } });
  ranks.push(3);
  deepEqual(net.stragglers?.ranks, [1, 2]);
});

Deno.test("network: invalid text becomes NaN in the node", () => {
  const net = network({ bandwidth: "fast" as Bandwidth, latency: "soon" as Duration });
  ok(Number.isNaN(net.bandwidthBitsPerSecond));
  ok(Number.isNaN(net.latencyMs));
});

Deno.test("network: links override the defaults in both directions, stragglers may only delay", () => {
  const net = network({
    latency: "1ms",
    links: [{ between: [2, 0], bandwidth: "10Mbit", jitter: "1ms" }],
    stragglers: { ranks: [1], delay: "20ms" },
    computeMs: "15ms",
  });
  deepEqual(net.links, [
    { between: [2, 0], bandwidthBitsPerSecond: 1e7, latencyMs: null, jitterMs: 1 },
  ]);
  deepEqual(net.stragglers, { ranks: [1], probability: 0, slowdown: 1, delayMs: 20 });
  equal(net.computeMs, 15);
});
