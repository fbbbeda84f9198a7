import assert from "node:assert/strict";
import { network } from "../../dsl/network.ts";
import { linkParams, LinkSchedule } from "./links.ts";

Deno.test("a 1 MB message on 8 Mbit/s with 5 ms latency takes 1.005 s", () => {
  const links = new LinkSchedule(network({ bandwidth: "8Mbit", latency: "5ms" }), 0, 0);
  assert.deepEqual(links.transfer(1, 1_000_000, 0), { leftAt: 1000, arriveAt: 1005 });
});

Deno.test("a link is a queue: a second message waits for the first to leave", () => {
  const links = new LinkSchedule(network({ bandwidth: "8Mbit", latency: "5ms" }), 0, 0);
  links.transfer(1, 1000, 0); // leaves at 1 ms
  assert.deepEqual(links.transfer(1, 1000, 0.5), { leftAt: 2, arriveAt: 7 });
  // Another link of the same sender is free: full speed from its own start.
  assert.deepEqual(links.transfer(2, 1000, 0.5), { leftAt: 1.5, arriveAt: 6.5 });
  // A sender that is ready later than the link is free starts when it is ready.
  assert.deepEqual(links.transfer(1, 1000, 10), { leftAt: 11, arriveAt: 16 });
});

Deno.test("an unlimited link has only its latency", () => {
  const links = new LinkSchedule(network({ latency: "2ms" }), 3, 0);
  assert.deepEqual(links.transfer(0, 1e9, 4), { leftAt: 4, arriveAt: 6 });
});

Deno.test("jitter is seeded per link, bounded, and never reorders a link's messages", () => {
  const net = network({ latency: "1ms", jitter: "10ms" });
  const arrivals = (seed: number) => {
    const links = new LinkSchedule(net, 0, seed);
    return Array.from({ length: 50 }, (_, i) => links.transfer(1, 0, i * 0.1).arriveAt);
  };
  const first = arrivals(7);
  assert.deepEqual(arrivals(7), first, "the same seed gives the same arrivals");
  assert.notDeepEqual(arrivals(8), first);
  first.forEach((t, i) => {
    assert.ok(t >= i * 0.1 + 1, `message ${i} arrives after its latency`);
    assert.ok(t <= 49 * 0.1 + 11, `message ${i} arrives within latency + jitter`);
    if (i > 0) assert.ok(t >= first[i - 1]!, `message ${i} keeps its order`);
  });
});

Deno.test("a link override applies to both directions of its pair only", () => {
  const net = network({
    bandwidth: "1Gbit",
    latency: "1ms",
    links: [{ between: [1, 3], bandwidth: "10Mbit", latency: "20ms" }],
  });
  assert.deepEqual(linkParams(net, 3, 1), { bitsPerSecond: 1e7, latencyMs: 20, jitterMs: 0 });
  assert.deepEqual(linkParams(net, 1, 3), { bitsPerSecond: 1e7, latencyMs: 20, jitterMs: 0 });
  assert.deepEqual(linkParams(net, 1, 2), { bitsPerSecond: 1e9, latencyMs: 1, jitterMs: 0 });
});
