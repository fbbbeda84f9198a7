import assert from "node:assert/strict";
import type { TopologyNode } from "./types.ts";
import {
  complete,
  customTopology,
  exponential,
  onePeerExponential,
  ring,
  star,
  topologyName,
  torus,
} from "./mod.ts";

Deno.test("topologyName gives short labels", () => {
  assert.equal(topologyName(ring()), "ring");
  assert.equal(topologyName(torus()), "torus");
  assert.equal(topologyName(torus({ rows: 4, cols: 8 })), "torus 4×8");
  assert.equal(topologyName(torus({ rows: 4 })), "torus 4×?");
  assert.equal(topologyName(exponential()), "exponential");
  assert.equal(topologyName(onePeerExponential()), "onePeerExponential");
  assert.equal(topologyName(complete()), "complete");
  assert.equal(topologyName(star()), "star");
  assert.equal(topologyName(star({ hub: 2 })), "star hub 2");
  assert.equal(topologyName(customTopology([[1]], { name: "solo" })), "custom solo");
});

Deno.test("topologyName never throws on odd input", () => {
  assert.equal(topologyName({ kind: "hypercube" } as unknown as TopologyNode), "hypercube");
});
