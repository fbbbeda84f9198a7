import assert from "node:assert/strict";
import type { TopologyNode } from "./types.ts";
import { customTopology, mixingMatrix, ring, torus } from "./mod.ts";

Deno.test("mixingMatrix returns a fresh matrix each call", () => {
  const w = mixingMatrix(ring(), 4);
  w[0]![0] = 42;
  assert.equal(mixingMatrix(ring(), 4)[0]![0], 1 / 3);
});

Deno.test("mixingMatrix refuses invalid workers and steps", () => {
  assert.throws(() => mixingMatrix(ring(), 0), {
    name: "RangeError",
    message: 'Cannot build mixing matrix: workers "0" is not a positive integer',
  });
  assert.throws(() => mixingMatrix(ring(), 4, -1), {
    message: 'Cannot build mixing matrix: step "-1" is not a non-negative integer',
  });
  assert.throws(() => mixingMatrix(ring(), 4, 0.5), RangeError);
});

Deno.test("mixingMatrix refuses topologies that do not fit n", () => {
  assert.throws(() => mixingMatrix(torus({ rows: 3, cols: 3 }), 8), {
    message: "Cannot build mixing matrix: torus 3×3 has 9 nodes but workers is 8",
  });
  assert.throws(() => mixingMatrix(customTopology([[1]], { name: "solo" }), 2), {
    message: 'Cannot build mixing matrix: topology "custom solo" has 1 node but workers is 2',
  });
  assert.throws(() => mixingMatrix({ kind: "hypercube" } as unknown as TopologyNode, 2), {
    message: 'Cannot build mixing matrix: unknown topology kind "hypercube"',
  });
});
