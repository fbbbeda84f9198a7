import assert from "node:assert/strict";
import {
  complete,
  customTopology,
  exponential,
  mixingMatrix,
  onePeerExponential,
  period,
  ring,
  star,
  type TopologyNode,
  topologyPreset,
  torus,
} from "./mod.ts";

/** The ring's matrix by hand: a third to itself and to each neighbour. */
function ringMatrix(n: number): number[][] {
  return Array.from(
    { length: n },
    (_, i) =>
      Array.from(
        { length: n },
        (_, j) => j === i || j === (i + 1) % n || j === (i + n - 1) % n ? 1 / 3 : 0,
      ),
  );
}

Deno.test("topologyPreset: every topology round-trips through its preset at every step", () => {
  const cases: [TopologyNode, number][] = [
    [ring(), 8],
    [torus({ rows: 3, cols: 4 }), 12],
    [exponential(), 16],
    [onePeerExponential(), 16],
    [complete(), 5],
    [star({ hub: 2 }), 6],
    [customTopology([[[1, 0], [0, 1]], [[0.5, 0.5], [0.5, 0.5]]], { name: "lazy" }), 2],
  ];
  for (const [topology, n] of cases) {
    const preset = JSON.parse(JSON.stringify(topologyPreset(topology, n)));
    const loaded = customTopology(preset.weights, { name: preset.name });
    assert.equal(period(loaded, n), period(topology, n), preset.name);
    for (let step = 0; step < 2 * period(topology, n) + 1; step++) {
      assert.deepEqual(mixingMatrix(loaded, n, step), mixingMatrix(topology, n, step));
    }
  }
});

Deno.test("topologyPreset: a static graph is one matrix, a time-varying one a list; the description says which", () => {
  const ring8 = topologyPreset(ring(), 8);
  assert.deepEqual(ring8.weights, ringMatrix(8));
  assert.equal(
    ring8.description,
    "ring on 8 workers (static): undirected, in-degree 2, spectral gap 0.1953 at step 0",
  );
  const onePeer = topologyPreset(onePeerExponential(), 8);
  assert.equal((onePeer.weights as unknown[]).length, 3);
  assert.match(onePeer.description!, /time-varying, period 3 steps/);
  const custom = customTopology([[0.5, 0.5], [0.5, 0.5]], { name: "my pair" });
  assert.equal(topologyPreset(custom, 2).name, "my pair");
});
