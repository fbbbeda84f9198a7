import assert from "node:assert/strict";
import type { TopologyNode } from "./types.ts";
import {
  complete,
  customTopology,
  exponential,
  fromFile,
  onePeerExponential,
  ring,
  star,
  topologyProblems,
  torus,
} from "./mod.ts";
import { tempDir } from "./_test_helpers.ts";

Deno.test("topologyProblems: a preset with the wrong number of nodes", () => {
  const dir = tempDir();
  try {
    const path = `${dir.path}/preset.json`;
    const six = Array.from({ length: 6 }, () => new Array<number>(6).fill(1 / 6));
    Deno.writeTextFileSync(path, JSON.stringify({ weights: six }));
    assert.deepEqual(topologyProblems(fromFile(path), 8), [
      'topology "custom preset.json" has 6 nodes but workers is 8',
    ]);
    assert.deepEqual(topologyProblems(fromFile(path), 6), []);
  } finally {
    dir.remove();
  }
});

Deno.test("topologyProblems: torus shapes and star hubs that do not fit", () => {
  assert.deepEqual(topologyProblems(torus({ rows: 3, cols: 3 }), 8), [
    "torus 3×3 has 9 nodes but workers is 8",
  ]);
  assert.deepEqual(topologyProblems(torus({ rows: 3 }), 8), [
    "torus 3×? does not fit workers 8: 8 is not a multiple of 3",
  ]);
  assert.deepEqual(topologyProblems(torus({ cols: 3 }), 8), [
    "torus ?×3 does not fit workers 8: 8 is not a multiple of 3",
  ]);
  assert.deepEqual(topologyProblems(star({ hub: 9 }), 8), ["star hub 9 is outside ranks 0..7"]);
  assert.deepEqual(topologyProblems(star({ hub: 8 }), 8), ["star hub 8 is outside ranks 0..7"]);
});

Deno.test("topologyProblems: not doubly stochastic, with the row or column and its sum", () => {
  // Rows sum to 1; columns sum to 1.5, 1 and 0.5.
  const lopsided = customTopology([[0.5, 0.5, 0], [0.5, 0.5, 0], [0.5, 0, 0.5]], {
    name: "lopsided",
  });
  assert.deepEqual(topologyProblems(lopsided, 3), [
    'topology "custom lopsided" is not doubly stochastic: column 0 sums to 1.5',
    'topology "custom lopsided" is not strongly connected: rank 2 never reaches rank 0',
  ]);
  assert.deepEqual(topologyProblems(lopsided, 3, { requireDoublyStochastic: false }), [
    'topology "custom lopsided" is not column-stochastic: column 0 sums to 1.5',
    'topology "custom lopsided" is not strongly connected: rank 2 never reaches rank 0',
  ]);
});

Deno.test("topologyProblems: column-stochastic is enough when SGP asks", () => {
  // Columns sum to 1, rows to 1.5, 0.5 and 1; edges 1→0, 2→0, 0→1, 1→2 connect everyone.
  const push = customTopology([[0.5, 0.5, 0.5], [0.5, 0, 0], [0, 0.5, 0.5]], { name: "push" });
  assert.deepEqual(topologyProblems(push, 3, { requireDoublyStochastic: false }), []);
  assert.deepEqual(topologyProblems(push, 3), [
    'topology "custom push" is not doubly stochastic: row 0 sums to 1.5',
  ]);
});

Deno.test("topologyProblems: push-sum can ask for a positive diagonal at every step", () => {
  // Column-stochastic and connected, but rank 1 keeps nothing of its own mass.
  const push = customTopology([[0.5, 0.5, 0.5], [0.5, 0, 0], [0, 0.5, 0.5]], { name: "push" });
  const pushSum = { requireDoublyStochastic: false, requirePositiveDiagonal: true };
  assert.deepEqual(topologyProblems(push, 3, pushSum), [
    'topology "custom push" keeps no share on its diagonal: rank 1 has weight 0 for itself, and push-sum needs every diagonal weight positive',
  ]);
  // Per step, for time-varying weights: step 0 is fine, step 1 is not.
  const half = [[0.5, 0.5], [0.5, 0.5]];
  const swap = [[0, 1], [1, 0]];
  const steps = customTopology([half, swap], { name: "steps" });
  assert.deepEqual(topologyProblems(steps, 2, pushSum), [
    'topology "custom steps" keeps no share on its diagonal at step 1: rank 0 has weight 0 for itself, and push-sum needs every diagonal weight positive',
  ]);
  assert.deepEqual(topologyProblems(steps, 2, { requireDoublyStochastic: false }), []);
});

Deno.test("topologyProblems: disconnected plans, static and over one period", () => {
  const h = 0.5;
  const islands = [[h, h, 0, 0], [h, h, 0, 0], [0, 0, h, h], [0, 0, h, h]];
  assert.deepEqual(topologyProblems(customTopology(islands, { name: "islands" }), 4), [
    'topology "custom islands" is not strongly connected: rank 0 never reaches rank 2',
  ]);
  const bridge = [[1, 0, 0, 0], [0, h, h, 0], [0, h, h, 0], [0, 0, 0, 1]];
  const twoSteps = customTopology([islands, bridge], { name: "two steps" });
  assert.deepEqual(topologyProblems(twoSteps, 4), []);
  const shaky = customTopology([islands, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [
    0,
    0,
    0.2,
    0.8,
  ]]], {
    name: "shaky",
  });
  // Step 1 rows all sum to 1, its columns to 1, 1, 1.2, 0.8; only 2 → 3 links the islands.
  assert.deepEqual(topologyProblems(shaky, 4), [
    'topology "custom shaky" is not doubly stochastic at step 1: column 2 sums to 1.2',
    'topology "custom shaky" is not strongly connected over one period: rank 0 never reaches rank 2',
  ]);
});

Deno.test("topologyProblems: nodes that arrive as unchecked JSON", () => {
  const negative = JSON.parse(
    '{ "kind": "custom", "name": "neg", "source": "plan", "weights": [[[1.5, -0.5], [-0.5, 1.5]]] }',
  ) as TopologyNode;
  assert.deepEqual(topologyProblems(negative, 2), [
    'topology "custom neg" has invalid weights: weights[0][0][1] is negative: -0.5',
  ]);
  const unknown = JSON.parse('{ "kind": "hypercube" }') as TopologyNode;
  assert.deepEqual(topologyProblems(unknown, 8), ['unknown topology kind "hypercube"']);
  const badTorus = JSON.parse('{ "kind": "torus", "rows": 0, "cols": null }') as TopologyNode;
  assert.deepEqual(topologyProblems(badTorus, 8), ['torus rows "0" is not a positive integer']);
});

Deno.test("topologyProblems: workers must be a positive integer", () => {
  assert.deepEqual(topologyProblems(ring(), 0), ['workers "0" is not a positive integer']);
  assert.deepEqual(topologyProblems(ring(), 2.5), ['workers "2.5" is not a positive integer']);
});

Deno.test("topologyProblems: built-ins never complain for n ≥ 1", () => {
  const builtIns = [ring(), torus(), exponential(), onePeerExponential(), complete(), star()];
  for (let n = 1; n <= 40; n++) {
    for (const topology of builtIns) {
      assert.deepEqual(topologyProblems(topology, n), [], `${topology.kind} n=${n}`);
      assert.deepEqual(
        topologyProblems(topology, n, { requireDoublyStochastic: false }),
        [],
        `${topology.kind} n=${n}`,
      );
    }
  }
});
