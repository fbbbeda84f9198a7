import assert from "node:assert/strict";
import type { TopologyInput } from "./types.ts";
import {
  complete,
  exponential,
  onePeerExponential,
  resolveTopology,
  ring,
  star,
  torus,
} from "./mod.ts";

Deno.test("resolveTopology calls bare factories", () => {
  assert.deepEqual(resolveTopology(ring), { kind: "ring" });
  assert.deepEqual(resolveTopology(torus), { kind: "torus", rows: null, cols: null });
  assert.deepEqual(resolveTopology(exponential), { kind: "exponential" });
  assert.deepEqual(resolveTopology(onePeerExponential), { kind: "onePeerExponential" });
  assert.deepEqual(resolveTopology(complete), { kind: "complete" });
  assert.deepEqual(resolveTopology(star), { kind: "star", hub: 0 });
});

Deno.test("resolveTopology returns nodes as they are", () => {
  const node = torus({ rows: 2, cols: 4 });
  assert.equal(resolveTopology(node), node);
});

Deno.test("resolveTopology rejects what is not a topology", () => {
  assert.throws(() => resolveTopology(42 as unknown as TopologyInput), {
    name: "TypeError",
    message: 'Cannot resolve topology: expected a topology node or factory, got "42"',
  });
  assert.throws(() => resolveTopology((() => null) as unknown as TopologyInput), {
    name: "TypeError",
    message: 'Cannot resolve topology: factory returned "null", not a topology node',
  });
});
