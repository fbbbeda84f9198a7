import { conformance, type ConformanceCase } from "./_conformance.ts";
import { tempDir } from "./_test_helpers.ts";
import { complete, exponential, fromFile, onePeerExponential, ring, star, torus } from "./mod.ts";

const NS = [2, 3, 4, 5, 8, 12, 16, 32];

/** ⌈log2 n⌉ from the definition, via floating point (the library counts with integers). */
const ceilLog2 = (n: number): number => Math.ceil(Math.log2(n));

/**
 * A hand-written two-step plan: step 0 averages the pairs (0,1), (2,3), …; step 1 the pairs
 * (1,2), (3,4), …; an unpaired rank keeps its model. Each step is doubly stochastic and their
 * union is the path 0–1–…–(n−1), so the plan is strongly connected over one period.
 */
function alternatingPairs(n: number): number[][][] {
  return [0, 1].map((offset) => {
    const w = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => +(i === j)));
    for (let i = offset; i + 1 < n; i += 2) {
      w[i]![i] =
        w[i + 1]![i + 1] =
        w[i]![i + 1] =
        w[i + 1]![i] =
          0.5;
    }
    return w;
  });
}

function presetCase(n: number): ConformanceCase {
  const dir = { path: "", remove: () => {} };
  return {
    label: "custom preset file",
    n,
    period: 2,
    make: () => {
      Object.assign(dir, tempDir());
      const path = `${dir.path}/pairs.json`;
      Deno.writeTextFileSync(
        path,
        JSON.stringify({ name: "alternating pairs", weights: alternatingPairs(n) }),
      );
      return fromFile(path);
    },
    cleanup: () => dir.remove(),
  };
}

const cases: ConformanceCase[] = [
  ...NS.map((n) => ({ label: "ring", n, period: 1, make: ring })),
  ...NS.map((n) => ({ label: "torus (most square)", n, period: 1, make: () => torus() })),
  ...[[2, 4], [3, 4], [4, 4], [4, 8], [8, 8]].map(([rows, cols]) => ({
    label: `torus ${rows}×${cols}`,
    n: rows! * cols!,
    period: 1,
    make: () => torus({ rows: rows!, cols: cols! }),
  })),
  ...NS.map((n) => ({ label: "exponential", n, period: 1, make: exponential })),
  ...NS.map((n) => ({
    label: "onePeerExponential",
    n,
    period: ceilLog2(n),
    make: onePeerExponential,
  })),
  ...NS.map((n) => ({ label: "complete", n, period: 1, make: complete })),
  ...NS.map((n) => ({ label: "star", n, period: 1, make: () => star() })),
  ...NS.map((n) => ({ label: "star (last hub)", n, period: 1, make: () => star({ hub: n - 1 }) })),
  ...NS.map(presetCase),
];

conformance(cases);
