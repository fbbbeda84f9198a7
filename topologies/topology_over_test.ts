import assert from "node:assert/strict";
import {
  complete,
  customTopology,
  exponential,
  isDoublyStochastic,
  isStronglyConnected,
  mixingMatrix,
  neighbors,
  onePeerExponential,
  period,
  pushSumMatrix,
  ring,
  star,
  type TopologyNode,
  topologyOver,
  torus,
} from "./mod.ts";
import { assertMatrixClose } from "./_test_helpers.ts";

const t = 1 / 3;

/** The members' block of a run-sized matrix, in member order. */
function block(matrix: number[][], members: readonly number[]): number[][] {
  return members.map((i) => members.map((j) => matrix[i]![j]!));
}

/** An `m × m` matrix with `weight` at `(p, p)` and at `(p, p − k)` for each offset `k`. */
function circulant(m: number, self: number, offsets: readonly number[], weight: number) {
  return Array.from({ length: m }, (_, p) => {
    const row = new Array<number>(m).fill(0);
    row[p] = self;
    for (const k of offsets) row[(((p - k) % m) + m) % m]! += weight;
    return row;
  });
}

Deno.test("a ring of 4 that lost worker 2: the three others average exactly, worker 2 is alone", () => {
  const over = topologyOver(ring(), [0, 1, 3], 4);
  assert.equal(over.kind, "custom");
  assert.equal(over.name, "ring over workers 0, 1, 3");
  assert.ok(Object.isFrozen(over));
  assert.deepEqual(mixingMatrix(over, 4), [
    [t, t, 0, t],
    [t, t, 0, t],
    [0, 0, 1, 0],
    [t, t, 0, t],
  ]);
  assert.equal(period(over, 4), 1);
});

Deno.test("a ring of 8 over five survivors is a ring over them in rank order", () => {
  const members = [0, 2, 3, 5, 6];
  const over = topologyOver(ring(), members, 8);
  const w = mixingMatrix(over, 8);
  assert.deepEqual(block(w, members), circulant(5, t, [1, -1], t));
  // Worker 3 (position 2) is between workers 2 and 5.
  assert.deepEqual(neighbors(over, 8, 3), {
    selfWeight: t,
    receiveFrom: [{ rank: 2, weight: t }, { rank: 5, weight: t }],
    sendTo: [{ rank: 2, weight: t }, { rank: 5, weight: t }],
  });
  // Two survivors of a ring average exactly.
  assert.deepEqual(block(mixingMatrix(topologyOver(ring(), [1, 4], 8), 8), [1, 4]), [
    [0.5, 0.5],
    [0.5, 0.5],
  ]);
});

Deno.test("the exponential graph is re-formed over the new count: 5 of 8 take 1/4 from p−1, p−2, p−4", () => {
  const members = [1, 2, 4, 6, 7];
  const w = mixingMatrix(topologyOver(exponential(), members, 8), 8);
  assertMatrixClose(block(w, members), circulant(5, 1 / 4, [1, 2, 4], 1 / 4));
});

Deno.test("the one-peer exponential graph over 3 survivors has period 2 (p−1, then p−2)", () => {
  const members = [0, 1, 3];
  const over = topologyOver(onePeerExponential(), members, 4);
  assert.equal(period(over, 4), 2);
  assert.deepEqual(block(mixingMatrix(over, 4, 0), members), circulant(3, 0.5, [1], 0.5));
  assert.deepEqual(block(mixingMatrix(over, 4, 1), members), circulant(3, 0.5, [2], 0.5));
  assert.deepEqual(mixingMatrix(over, 4, 2), mixingMatrix(over, 4, 0));
  // Push-sum (SGP) takes the doubly stochastic matrix as it is.
  assert.deepEqual(pushSumMatrix(over, 4, 1), mixingMatrix(over, 4, 1));
});

Deno.test("complete and star are re-formed over the members; a star without its hub is refused", () => {
  const members = [0, 1, 3];
  assertMatrixClose(
    block(mixingMatrix(topologyOver(complete(), members, 4), 4), members),
    [[t, t, t], [t, t, t], [t, t, t]],
  );
  // Hub worker 1 is position 1: it averages exactly, each leaf keeps 2/3.
  assertMatrixClose(
    block(mixingMatrix(topologyOver(star({ hub: 1 }), members, 4), 4), members),
    [[2 * t, t, 0], [t, t, t], [0, t, 2 * t]],
  );
  assert.throws(() => topologyOver(star({ hub: 2 }), members, 4), {
    name: "RangeError",
    message:
      "Cannot re-form star hub 2 over workers 0, 1, 3: the hub, worker 2, is not among them (a star cannot lose its hub)",
  });
});

Deno.test("a torus takes the most square grid of the survivors; a declared shape needs a count that factors", () => {
  const six = [0, 1, 2, 4, 5, 7];
  const f = 1 / 5;
  // 2×3 grid: position p = 3r + c; up and down coincide (2 rows), so they add to 2/5.
  const grid = [
    [f, f, f, 2 * f, 0, 0],
    [f, f, f, 0, 2 * f, 0],
    [f, f, f, 0, 0, 2 * f],
    [2 * f, 0, 0, f, f, f],
    [0, 2 * f, 0, f, f, f],
    [0, 0, 2 * f, f, f, f],
  ];
  assertMatrixClose(block(mixingMatrix(topologyOver(torus(), six, 8), 8), six), grid);
  const twelve = [...Array(16).keys()].filter((rank) => ![3, 7, 9, 14].includes(rank));
  const declared = topologyOver(torus({ rows: 4, cols: 4 }), twelve, 16);
  assert.ok(isDoublyStochastic(mixingMatrix(declared, 16)));
  assert.equal(neighbors(declared, 16, twelve[0]!).receiveFrom.length, 4); // a 3×4 grid
  const thirteen = [...Array(16).keys()].filter((rank) => ![3, 7, 9].includes(rank));
  assert.throws(() => topologyOver(torus({ rows: 4, cols: 4 }), thirteen, 16), {
    message: `Cannot re-form torus 4×4 over workers ${
      thirteen.join(", ")
    }: 13 nodes make no grid with both sides at least 2 (13 is prime); use ring() or a torus without a declared shape`,
  });
  // Without a declared shape a prime count is one row, as for a run of that many workers.
  const five = [0, 1, 2, 3, 4];
  assertMatrixClose(
    block(mixingMatrix(topologyOver(torus(), five, 8), 8), five),
    circulant(5, 3 * f, [1, -1], f),
  );
});

/** A path 0 – 1 – 2 – 3 with Metropolis–Hastings weights. */
const PATH = customTopology([
  [2 * t, t, 0, 0],
  [t, t, t, 0],
  [0, t, t, t],
  [0, 0, t, 2 * t],
], { name: "path4", source: "presets/path4.json" });

Deno.test("a preset keeps its induced sub-graph with Metropolis–Hastings weights", () => {
  const over = topologyOver(PATH, [0, 1, 2], 4);
  assert.equal(over.name, "path4 over workers 0, 1, 2");
  assert.equal(over.source, "presets/path4.json");
  // Path 0 – 1 – 2: degrees 1, 2, 1, so each edge weighs 1/(1 + 2).
  assertMatrixClose(mixingMatrix(over, 4), [
    [2 * t, t, 0, 0],
    [t, t, t, 0],
    [0, t, 2 * t, 0],
    [0, 0, 0, 1],
  ]);
  // A directed preset (each takes 1/2 from the rank before it) gives the same undirected path.
  const directed = customTopology(circulant(4, 0.5, [1], 0.5), { name: "directed4" });
  assertMatrixClose(
    mixingMatrix(topologyOver(directed, [0, 1, 2], 4), 4),
    mixingMatrix(over, 4),
  );
  // With every worker a member the preset's own weights stay.
  assert.deepEqual(mixingMatrix(topologyOver(directed, [0, 1, 2, 3], 4), 4), directed.weights[0]);
});

Deno.test("a preset whose sub-graph falls apart is refused, naming the groups", () => {
  assert.throws(() => topologyOver(PATH, [0, 1, 3], 4), {
    name: "RangeError",
    message:
      "Cannot re-form custom path4 over workers 0, 1, 3: the preset's graph over them falls apart into {0, 1} and {3}, which never exchange models",
  });
  assert.throws(() => topologyOver(PATH, [0, 3], 4), {
    message: /falls apart into \{0\} and \{3\}/,
  });
});

Deno.test("a time-varying preset is connected over its period even when no single matrix is", () => {
  // Step 0 pairs (0, 1) and (2, 3); step 1 pairs (1, 2) and (3, 0). Without worker 3, step 0
  // leaves worker 2 alone and step 1 leaves worker 0 alone, but together they connect.
  const h = 0.5;
  const pairs = customTopology([
    [[h, h, 0, 0], [h, h, 0, 0], [0, 0, h, h], [0, 0, h, h]],
    [[h, 0, 0, h], [0, h, h, 0], [0, h, h, 0], [h, 0, 0, h]],
  ], { name: "pairs" });
  const over = topologyOver(pairs, [0, 1, 2], 4);
  assert.equal(period(over, 4), 2);
  assert.deepEqual(mixingMatrix(over, 4, 0), [
    [h, h, 0, 0],
    [h, h, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ]);
  assert.deepEqual(mixingMatrix(over, 4, 1), [
    [1, 0, 0, 0],
    [0, h, h, 0],
    [0, h, h, 0],
    [0, 0, 0, 1],
  ]);
});

Deno.test("every re-formed topology is doubly stochastic and connected over its members", () => {
  const kinds: TopologyNode[] = [
    ring(),
    exponential(),
    onePeerExponential(),
    complete(),
    star(),
    torus(),
    customTopology(mixingMatrix(exponential(), 9), { name: "exp9" }),
  ];
  const n = 9;
  let refused = 0;
  // Every subset of 9 workers that keeps worker 0 (the star's hub): 256 memberships.
  for (let mask = 0; mask < 1 << (n - 1); mask++) {
    const members = [
      0,
      ...[...Array(n - 1).keys()].filter((k) => mask & (1 << k)).map((k) => k + 1),
    ];
    for (const topology of kinds) {
      if (topology.kind === "custom") {
        // The preset lacks differences 3 and 6: {0, 3, 6} alone falls apart, and is refused.
        const w = mixingMatrix(topology, n);
        const either = w.map((row, i) => row.map((value, j) => value + w[j]![i]!));
        if (!isStronglyConnected([block(either, members)])) {
          assert.throws(() => topologyOver(topology, members, n), /falls apart/);
          refused++;
          continue;
        }
      }
      const over = topologyOver(topology, members, n);
      const matrices = Array.from({ length: period(over, n) }, (_, s) => mixingMatrix(over, n, s));
      const what = `${over.name}`;
      for (const w of matrices) {
        assert.ok(isDoublyStochastic(w), `${what} is doubly stochastic`);
        for (let i = 0; i < n; i++) {
          if (!members.includes(i)) assert.equal(w[i]![i], 1, `${what}: worker ${i} alone`);
        }
      }
      assert.ok(
        isStronglyConnected(matrices.map((w) => block(w, members))),
        `${what} is connected over its members`,
      );
    }
  }
  assert.ok(refused > 0, "some memberships split the preset");
});

Deno.test("topologyOver refuses members that are not ascending ranks of the run", () => {
  assert.throws(() => topologyOver(ring(), [], 4), {
    message: "Cannot re-form ring over no workers: there are no members",
  });
  assert.throws(() => topologyOver(ring(), [0, 4], 4), {
    message: "Cannot re-form ring over workers 0, 4: 4 is not a rank 0..3",
  });
  assert.throws(() => topologyOver(ring(), [1, 0], 4), {
    message: "Cannot re-form ring over workers 1, 0: members must be distinct and ascending",
  });
  assert.throws(() => topologyOver(PATH, [0, 1], 5), {
    message:
      'Cannot re-form custom path4 over workers 0, 1: topology "custom path4" has 4 nodes but workers is 5',
  });
});
