import assert from "node:assert/strict";
import { mixingMatrix, topologyGap, torus, torusShape } from "./mod.ts";
import { assertClose, assertMatrixClose } from "./_test_helpers.ts";

Deno.test("torus() stores missing sides as null and freezes the node", () => {
  assert.deepEqual(torus(), { kind: "torus", rows: null, cols: null });
  assert.deepEqual(torus({ rows: 2 }), { kind: "torus", rows: 2, cols: null });
  assert.deepEqual(torus({ rows: 4, cols: 8 }), { kind: "torus", rows: 4, cols: 8 });
  assert.ok(Object.isFrozen(torus()));
});

Deno.test("torus() rejects sides that are not positive integers", () => {
  assert.throws(() => torus({ rows: 0 }), {
    name: "RangeError",
    message: 'Cannot create torus: rows "0" is not a positive integer',
  });
  assert.throws(() => torus({ cols: 1.5 }), {
    message: 'Cannot create torus: cols "1.5" is not a positive integer',
  });
});

Deno.test("torusShape picks the most square grid with rows ≤ cols", () => {
  const expected: [number, number, number][] = [
    [1, 1, 1],
    [2, 1, 2],
    [3, 1, 3],
    [4, 2, 2],
    [6, 2, 3],
    [7, 1, 7],
    [8, 2, 4],
    [12, 3, 4],
    [16, 4, 4],
    [32, 4, 8],
    [36, 6, 6],
    [60, 6, 10],
  ];
  for (const [n, rows, cols] of expected) assert.deepEqual(torusShape(n), { rows, cols }, `n=${n}`);
  assert.throws(() => torusShape(0), RangeError);
});

Deno.test("torus 3×3: the centre averages itself and its four neighbours", () => {
  assertMatrixClose([mixingMatrix(torus({ rows: 3, cols: 3 }), 9)[4]!], [[
    0,
    0.2,
    0,
    0.2,
    0.2,
    0.2,
    0,
    0.2,
    0,
  ]]);
});

Deno.test("torus merges coincident neighbours by adding weights", () => {
  // 2×3: up and down of rank 0 are both rank 3.
  assertMatrixClose([mixingMatrix(torus({ rows: 2, cols: 3 }), 6)[0]!], [[
    0.2,
    0.2,
    0.2,
    0.4,
    0,
    0,
  ]]);
  // 1×5 (the most square grid for 5): up and down are the rank itself.
  assertMatrixClose([mixingMatrix(torus(), 5)[0]!], [[0.6, 0.2, 0, 0, 0.2]]);
  // 1×2: up/down on self, left/right both the other rank.
  assertMatrixClose(mixingMatrix(torus(), 2), [[0.6, 0.4], [0.4, 0.6]]);
  assert.deepEqual(mixingMatrix(torus(), 1), [[1]]);
});

Deno.test("a torus side left null is n divided by the other", () => {
  assert.deepEqual(
    mixingMatrix(torus({ rows: 2 }), 8),
    mixingMatrix(torus({ rows: 2, cols: 4 }), 8),
  );
  assert.deepEqual(
    mixingMatrix(torus({ cols: 2 }), 8),
    mixingMatrix(torus({ rows: 4, cols: 2 }), 8),
  );
  assert.deepEqual(mixingMatrix(torus(), 12), mixingMatrix(torus({ rows: 3, cols: 4 }), 12));
});

Deno.test("torus spectral gaps: 4×4 is 0.400 and 8×8 is 0.117", () => {
  assert.equal(topologyGap(torus({ rows: 4, cols: 4 }), 16).toFixed(3), "0.400");
  assert.equal(topologyGap(torus({ rows: 8, cols: 8 }), 64).toFixed(3), "0.117");
  // 8×8 exactly: largest other eigenvalue (1 + 2cos(π/4) + 2)/5, so the gap is (2 − √2)/5.
  assertClose(topologyGap(torus({ rows: 8, cols: 8 }), 64), (2 - Math.SQRT2) / 5, 1e-12);
});

Deno.test("torus spectral gap matches the closed form for every grid shape", () => {
  // W is a sum of commuting circulants: eigenvalues (1 + 2cos(2πa/r) + 2cos(2πb/c))/5.
  const closedForm = (r: number, c: number): number => {
    let largest = 0;
    for (let a = 0; a < r; a++) {
      for (let b = 0; b < c; b++) {
        if (a === 0 && b === 0) continue;
        const lambda =
          (1 + 2 * Math.cos((2 * Math.PI * a) / r) + 2 * Math.cos((2 * Math.PI * b) / c)) /
          5;
        largest = Math.max(largest, Math.abs(lambda));
      }
    }
    return 1 - largest;
  };
  for (const [r, c] of [[1, 2], [1, 5], [2, 2], [2, 3], [2, 4], [3, 4], [4, 4], [3, 5], [4, 8]]) {
    assertClose(
      topologyGap(torus({ rows: r!, cols: c! }), r! * c!),
      closedForm(r!, c!),
      1e-12,
      `${r}×${c}`,
    );
  }
});
