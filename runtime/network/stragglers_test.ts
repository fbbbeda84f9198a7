import assert from "node:assert/strict";
import { network } from "../../dsl/network.ts";
import { stragglerComputeMs } from "./stragglers.ts";

Deno.test("fixed stragglers are slowed on every step, others never without a probability", () => {
  const net = network({ stragglers: { ranks: [2], slowdown: 3 } });
  for (let k = 0; k < 20; k++) {
    assert.equal(stragglerComputeMs(net, 1, 2, k, 10), 30);
    assert.equal(stragglerComputeMs(net, 1, 0, k, 10), 10);
  }
  assert.equal(stragglerComputeMs(null, 1, 2, 0, 10), 10);
});

Deno.test("random stragglers: seeded draws at the declared rate, exponential delays", () => {
  const net = network({ stragglers: { probability: 0.25, delay: "40ms" } });
  const draws = Array.from({ length: 4000 }, (_, k) => stragglerComputeMs(net, 5, 1, k, 10));
  assert.deepEqual(
    draws.slice(0, 50),
    Array.from({ length: 50 }, (_, k) => stragglerComputeMs(net, 5, 1, k, 10)),
    "the same seed gives the same steps",
  );
  const slow = draws.filter((ms) => ms > 10);
  // 1000 slow steps expected; a binomial standard deviation is about 27.
  assert.ok(Math.abs(slow.length - 1000) < 120, `${slow.length} slow steps of 4000`);
  // Exponential delays of mean 40 ms: the sample mean of ~1000 is within 10%.
  const mean = slow.reduce((s, ms) => s + ms - 10, 0) / slow.length;
  assert.ok(Math.abs(mean - 40) < 4, `mean delay ${mean} ms`);
});
