import assert from "node:assert/strict";
import { customTopology, mixingMatrix, period, pushSumMatrix } from "./mod.ts";

const IDENTITY = [[1, 0], [0, 1]];
const AVERAGE = [[0.5, 0.5], [0.5, 0.5]];

Deno.test("customTopology wraps a single matrix into a one-step list", () => {
  assert.deepEqual(customTopology(AVERAGE, { name: "pair" }), {
    kind: "custom",
    name: "pair",
    source: "inline",
    weights: [AVERAGE],
  });
  assert.equal(customTopology(AVERAGE, { name: "pair", source: "p.json" }).source, "p.json");
});

Deno.test("customTopology copies and freezes the weights", () => {
  const weights = [[0.5, 0.5], [0.5, 0.5]];
  const topology = customTopology(weights, { name: "pair" });
  weights[0]![0] = 9;
  assert.deepEqual(topology.weights[0], AVERAGE);
  assert.ok(Object.isFrozen(topology.weights) && Object.isFrozen(topology.weights[0]![1]));
  const w = mixingMatrix(topology, 2);
  w[0]![0] = 7;
  assert.deepEqual(mixingMatrix(topology, 2), AVERAGE);
});

Deno.test("customTopology uses matrix step mod length", () => {
  const topology = customTopology([IDENTITY, AVERAGE, IDENTITY], { name: "three" });
  assert.equal(period(topology, 2), 3);
  assert.deepEqual([0, 1, 2, 3, 4].map((step) => mixingMatrix(topology, 2, step)), [
    IDENTITY,
    AVERAGE,
    IDENTITY,
    IDENTITY,
    AVERAGE,
  ]);
});

Deno.test("customTopology's push-sum matrix is the given matrix", () => {
  const push = [[0.5, 1], [0.5, 0]];
  assert.deepEqual(pushSumMatrix(customTopology(push, { name: "push" }), 2), push);
});

Deno.test("customTopology rejects malformed weights with a TypeError", () => {
  assert.throws(() => customTopology([[1, 0], [0]], { name: "x" }), {
    name: "TypeError",
    message: 'Cannot create custom topology "x": weights[1] has 1 entry but weights has 2 rows',
  });
  assert.throws(() => customTopology([[Number.NaN]], { name: "x" }), {
    message: 'Cannot create custom topology "x": weights[0][0] is "NaN", not a number',
  });
  assert.throws(() => customTopology([], { name: "x" }), TypeError);
});
