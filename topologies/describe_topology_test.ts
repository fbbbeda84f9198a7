import assert from "node:assert/strict";
import { describeTopology, onePeerExponential, ring, star, torus } from "./mod.ts";
import { assertClose } from "./_test_helpers.ts";

Deno.test("describeTopology on a ring of 8", () => {
  const d = describeTopology(ring(), 8);
  assert.equal(d.name, "ring");
  assert.equal(d.n, 8);
  assert.equal(d.step, 0);
  assert.equal(d.period, 1);
  assert.equal(d.directed, false);
  assert.deepEqual(d.degree, { min: 2, max: 2 });
  assertClose(d.spectralGap, (2 / 3) * (1 - Math.cos(Math.PI / 4)));
  assert.equal(d.matrix.length, 8);
});

Deno.test("describeTopology degrees of a star of 5 and a 4×4 torus", () => {
  assert.deepEqual(describeTopology(star(), 5).degree, { min: 1, max: 4 });
  const d = describeTopology(torus({ rows: 4, cols: 4 }), 16);
  assert.equal(d.name, "torus 4×4");
  assert.deepEqual(d.degree, { min: 4, max: 4 });
});

Deno.test("describeTopology of one-peer exponential 8: directed at step 1, not at step 2", () => {
  // Step 1 pairs i with i − 2 (not i + 2); step 2 pairs i with i − 4 = i + 4 (mod 8).
  const one = describeTopology(onePeerExponential(), 8, 1);
  assert.equal(one.directed, true);
  assert.equal(one.period, 3);
  assert.equal(one.step, 1);
  assert.deepEqual(one.degree, { min: 1, max: 1 });
  assert.equal(describeTopology(onePeerExponential(), 8, 2).directed, false);
  assert.equal(describeTopology(onePeerExponential(), 8, 2).spectralGap, 0);
});
