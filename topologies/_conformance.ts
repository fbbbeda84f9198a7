/**
 * The conformance suite every topology runs (one shared suite, many implementations): for each
 * case, every matrix of one period must be doubly stochastic and non-negative, the union graph
 * strongly connected, `neighbors` consistent with `mixingMatrix`, the push-sum matrix
 * column-stochastic, the spectral gap equal to an independent power-iteration estimate, and
 * `topologyProblems` empty.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { TopologyNode } from "./types.ts";
import {
  describeTopology,
  isDoublyStochastic,
  isStronglyConnected,
  mixingMatrix,
  neighbors,
  period,
  pushSumMatrix,
  spectralGap,
  topologyProblems,
} from "./mod.ts";
import {
  assertClose,
  columnSums,
  gapByPowerIteration,
  rowSums,
  stronglyConnectedByClosure,
} from "./_test_helpers.ts";

/** One topology on one number of workers. */
export interface ConformanceCase {
  /** Test name prefix, e.g. `"ring"`. */
  readonly label: string;
  /** Number of workers. */
  readonly n: number;
  /** Expected period, computed by the caller from the definition. */
  readonly period: number;
  /** Builds the topology inside the test (so files can be created and removed there). */
  readonly make: () => TopologyNode;
  /** Runs after the test, e.g. to remove a temporary preset. */
  readonly cleanup?: () => void;
}

/** Registers one `Deno.test` per case, with one step per property. */
export function conformance(cases: readonly ConformanceCase[]): void {
  for (const c of cases) {
    Deno.test(`conformance: ${c.label}, n = ${c.n}`, async (t) => {
      const topology = c.make();
      try {
        await checkCase(t, topology, c);
      } finally {
        c.cleanup?.();
      }
    });
  }
}

async function checkCase(
  t: Deno.TestContext,
  topology: TopologyNode,
  c: ConformanceCase,
): Promise<void> {
  const { n } = c;
  const steps = Array.from({ length: c.period }, (_, step) => step);
  const matrices = steps.map((step) => mixingMatrix(topology, n, step));

  await t.step("period matches the definition and matrices repeat after it", () => {
    assert.equal(period(topology, n), c.period);
    for (const step of steps) {
      assert.deepEqual(mixingMatrix(topology, n, step + c.period), matrices[step]);
    }
  });

  await t.step("matrices are n×n with non-negative weights", () => {
    for (const w of matrices) {
      assert.equal(w.length, n);
      for (const row of w) {
        assert.equal(row.length, n);
        for (const value of row) assert.ok(value >= 0, `negative weight ${value}`);
      }
    }
  });

  await t.step("rows and columns sum to 1", () => {
    matrices.forEach((w, step) => {
      rowSums(w).forEach((sum, i) => assertClose(sum, 1, 1e-12, `step ${step} row ${i}`));
      columnSums(w).forEach((sum, j) => assertClose(sum, 1, 1e-12, `step ${step} column ${j}`));
      assert.equal(isDoublyStochastic(w), true);
    });
  });

  await t.step("union over one period is strongly connected", () => {
    assert.equal(stronglyConnectedByClosure(matrices), true);
    assert.equal(isStronglyConnected(matrices), true);
  });

  await t.step("neighbors agree with the matrix and with each other", () => {
    for (const step of steps) {
      const w = matrices[step]!;
      const all = Array.from({ length: n }, (_, rank) => neighbors(topology, n, rank, step));
      all.forEach((mine, i) => {
        assert.equal(mine.selfWeight, w[i]![i]);
        const expectedReceive = w[i]!.flatMap((weight, j) =>
          j !== i && weight > 0 ? [{ rank: j, weight }] : []
        );
        assert.deepEqual(mine.receiveFrom, expectedReceive);
        for (const { rank: j, weight } of mine.sendTo) {
          assert.ok(
            all[j]!.receiveFrom.some((peer) => peer.rank === i && peer.weight === weight),
            `rank ${i} sends to ${j} with weight ${weight}, but ${j} does not receive it`,
          );
        }
      });
      const sent = all.reduce((s, x) => s + x.sendTo.length, 0);
      const received = all.reduce((s, x) => s + x.receiveFrom.length, 0);
      assert.equal(sent, received);
    }
  });

  await t.step("push-sum matrix is column-stochastic on the same edges", () => {
    for (const step of steps) {
      const p = pushSumMatrix(topology, n, step);
      const w = matrices[step]!;
      columnSums(p).forEach((sum, j) => assertClose(sum, 1, 1e-12, `column ${j}`));
      p.forEach((row, i) =>
        row.forEach((value, j) => {
          assert.ok(value >= 0);
          assert.equal(value > 0, i === j || w[i]![j]! > 0, `edge ${j} → ${i}`);
        })
      );
    }
  });

  await t.step("spectral gap agrees with power iteration and lies in [0, 1]", () => {
    for (const step of steps) {
      const gap = spectralGap(matrices[step]!);
      assertClose(gap, gapByPowerIteration(matrices[step]!), 1e-6, `step ${step}`);
      assert.ok(gap >= -1e-12 && gap <= 1 + 1e-12, `gap ${gap}`);
    }
  });

  await t.step("describeTopology is consistent", () => {
    const d = describeTopology(topology, n);
    const inDegrees = matrices[0]!.map((row, i) => row.filter((w, j) => j !== i && w > 0).length);
    assert.equal(d.n, n);
    assert.equal(d.period, c.period);
    assert.deepEqual(d.degree, { min: Math.min(...inDegrees), max: Math.max(...inDegrees) });
    assert.deepEqual(d.matrix, matrices[0]);
  });

  await t.step("topologyProblems finds nothing", () => {
    assert.deepEqual(topologyProblems(topology, n), []);
    assert.deepEqual(topologyProblems(topology, n, { requireDoublyStochastic: false }), []);
  });
}
