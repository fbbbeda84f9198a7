import assert from "node:assert/strict";
import {
  complete,
  customTopology,
  exponential,
  onePeerExponential,
  period,
  ring,
  star,
  torus,
} from "./mod.ts";

Deno.test("period is 1 for static built-ins", () => {
  for (const topology of [ring(), torus(), exponential(), complete(), star()]) {
    for (const n of [1, 2, 7, 16]) assert.equal(period(topology, n), 1);
  }
});

Deno.test("period of the one-peer exponential graph is ⌈log2 n⌉, at least 1", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 8, 9, 16, 17].map((n) => period(onePeerExponential(), n)), [
    1,
    1,
    2,
    2,
    3,
    3,
    4,
    4,
    5,
  ]);
});

Deno.test("period of a custom topology is its number of matrices", () => {
  const identity = [[1, 0], [0, 1]];
  assert.equal(period(customTopology(identity, { name: "one" }), 2), 1);
  assert.equal(period(customTopology([identity, identity, identity], { name: "three" }), 2), 3);
});

Deno.test("period refuses a topology that does not fit", () => {
  assert.throws(() => period(torus({ rows: 3, cols: 3 }), 8), {
    name: "RangeError",
    message: "Cannot compute period: torus 3×3 has 9 nodes but workers is 8",
  });
});
