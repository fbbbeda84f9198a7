import assert from "node:assert/strict";
import { chocoGossip, gossip } from "../../dsl/bases/mod.ts";
import { qsgd, topK } from "../../dsl/compressors/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { cosine } from "../../dsl/schedules.ts";
import { slowMo } from "../../dsl/outers/mod.ts";
import { onePeerExponential, ring } from "../../topologies/mod.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { chocoGossipBase } from "./choco_gossip.ts";
import type { BaseContext } from "./types.ts";
import {
  assertRowsClose,
  axpy,
  bufferOf,
  gradients,
  lsGradient,
  makePlan,
  type Mat,
  matmul,
  meanRow,
  repeat,
  RING_4,
  runWorkers,
  SHARDS_2D,
  SHARDS_3D,
  type Vec,
  X0_2D,
  X0_3D,
} from "./_testing.ts";

/** Top-k of a float64 vector, written independently: the k largest magnitudes, lower index first. */
function topKReference(v: Vec, k: number): Vec {
  const order = v.map((value, j) => ({ j, m: Math.abs(value) }))
    .sort((a, b) => b.m - a.m || a.j - b.j).slice(0, k).map(({ j }) => j);
  return v.map((value, j) => order.includes(j) ? value : 0);
}

/**
 * CHOCO-SGD in float64 (docs/algorithms.md §1.9) with one public copy per worker (every holder of
 * `x̂_j` applies the same codes, so one matrix stands for all of them).
 */
function chocoReference(
  W: Mat,
  shards: typeof SHARDS_2D,
  x0: readonly number[],
  steps: number,
  lr: number,
  gamma: number,
  compress: (v: Vec) => Vec,
): { history: Mat[]; publicCopies: Mat } {
  const n = W.length;
  let X = repeat(n, x0);
  const Xhat = repeat(n, x0);
  const history: Mat[] = [];
  for (let k = 0; k < steps; k++) {
    const G = gradients(shards, X);
    X = X.map((x, i) => axpy(x, -lr, G[i]!));
    for (let i = 0; i < n; i++) Xhat[i] = axpy(Xhat[i]!, 1, compress(axpy(X[i]!, -1, Xhat[i]!)));
    X = X.map((x, i) =>
      x.map((value, c) =>
        value + gamma * W[i]!.reduce((s, w, j) => s + w * (Xhat[j]![c]! - Xhat[i]![c]!), 0)
      )
    );
    history.push(X);
  }
  return { history, publicCopies: Xhat };
}

Deno.test("§5.13: chocoGossip without a compressor and gamma 1 is adapt-then-combine gossip", async () => {
  const n = 4;
  const steps = 4;
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr: 0.1 }),
    base: chocoGossip(ring, { gamma: 1 }),
    steps,
  });
  const { history, comms } = await runWorkers(plan, SHARDS_2D, X0_2D);
  const shards = SHARDS_2D.slice(0, n);
  // x_i ← Σ_j W_ij (x_j − γ g_j), written from §1.5 with no momentum: not the runtime's CHOCO.
  let X = repeat(n, X0_2D);
  for (let k = 0; k < steps; k++) {
    const G = gradients(shards, X);
    X = matmul(RING_4, X.map((x, i) => axpy(x, -0.1, G[i]!)));
    assertRowsClose(history[k]!, X, 2e-6, `step ${k}`);
  }
  assert.notDeepEqual([...history[steps - 1]![0]!], [...history[steps - 1]![1]!]);
  // Without a compressor the differences travel as float32 values, phase "base".
  for (const comm of comms) {
    assert.equal(comm.stats().sent.compressed, 0);
    assert.ok(comm.stats().sent.base > 0);
  }
});

Deno.test("chocoGossip with top-1 and gamma 0.5 follows a float64 reference for six steps", async () => {
  const n = 4;
  const steps = 6;
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr: 0.1 }),
    base: chocoGossip(ring, { gamma: 0.5 }),
    compress: topK({ k: 1, errorFeedback: false }),
    steps,
    dim: 3,
  });
  // A start without ties among the first differences' magnitudes (an exact tie in float64 need
  // not be one in float32, and the two would keep different entries).
  const x0 = [0.25, -0.5, 0.15];
  const { history, chains, comms, metrics } = await runWorkers(plan, SHARDS_3D, x0);
  const reference = chocoReference(
    RING_4,
    SHARDS_3D,
    x0,
    steps,
    0.1,
    0.5,
    (v) => topKReference(v, 1),
  );
  for (let k = 0; k < steps; k++) {
    assertRowsClose(history[k]!, reference.history[k]!, 1e-5, `step ${k}`);
  }
  // CHOCO is not gossip: with top-1 the models lag the uncompressed adapt-then-combine ones.
  const atc = chocoReference(RING_4, SHARDS_3D, x0, steps, 0.1, 1, (v) => v);
  assert.ok(
    Math.abs(reference.history[steps - 1]![0]![0]! - atc.history[steps - 1]![0]![0]!) > 1e-3,
  );
  // Public copies: x̂_i first, then the in-neighbours i−1 and i+1 in ascending rank, and every
  // holder's copy of x̂_j is bit-identical to j's own.
  const d = 3;
  const publics = chains.map((chain) => bufferOf(chain, "chocoGossip.public"));
  for (let i = 0; i < n; i++) {
    assert.equal(publics[i]!.length, 3 * d);
    const own = [...publics[i]!.subarray(0, d)];
    assertRowsClose([own], [reference.publicCopies[i]!], 1e-5, `x̂_${i}`);
    const inNeighbours = [(i + n - 1) % n, (i + 1) % n].sort((a, b) => a - b);
    for (const [slot, j] of inNeighbours.entries()) {
      assert.deepEqual(
        [...publics[i]!.subarray((slot + 1) * d, (slot + 2) * d)],
        [...publics[j]!.subarray(0, d)],
        `worker ${i}'s copy of x̂_${j}`,
      );
    }
  }
  // The gap top-1 left out at the last step, from the reference's models before the consensus
  // step (the local step's x_i) and its public copies.
  const lastStep = chocoReference(
    RING_4,
    SHARDS_3D,
    x0,
    steps - 1,
    0.1,
    0.5,
    (v) => topKReference(v, 1),
  );
  const lastX = lastStep.history[steps - 2]!;
  const G = gradients(SHARDS_3D, lastX);
  for (let i = 0; i < n; i++) {
    const half = axpy(lastX[i]!, -0.1, G[i]!);
    const gap = axpy(half, -1, reference.publicCopies[i]!);
    const expected = Math.hypot(...gap);
    const reported = metrics[i]![steps - 1]!.publicGapNorm as number;
    assert.ok(
      expected > 1e-3 && Math.abs(reported - expected) < 1e-5,
      `${reported} vs ${expected}`,
    );
  }
  // Each step sends one code, a float32 value and a 2-bit index (1 byte), to both neighbours,
  // each in a frame with a 12-byte header.
  for (const comm of comms) {
    assert.equal(comm.stats().sent.base, 0);
    assert.equal(comm.stats().sent.compressed, steps * 2 * (4 + 1 + 12));
  }
});

Deno.test("chocoGossip with 2-bit QSGD converges to where uncompressed gossip does", async () => {
  // A cosine schedule, so both settle (with a constant rate QSGD's noise keeps CHOCO moving);
  // measured: the mean models end 0.7% of the initial distance apart.
  const n = 4;
  const steps = 300;
  const lr = 0.05;
  const shards = SHARDS_3D;
  const run = (compressed: boolean) =>
    runWorkers(
      makePlan({
        workers: n,
        optimizer: sgd({ lr: cosine({ lr }) }),
        base: compressed ? chocoGossip(ring, { gamma: 0.4 }) : gossip(ring),
        compress: compressed ? qsgd({ bits: 2 }) : null,
        steps,
        dim: 3,
      }),
      shards,
      X0_3D,
    );
  const [choco, plain] = await Promise.all([run(true), run(false)]);
  const distance = (a: ArrayLike<number>, b: ArrayLike<number>) =>
    Math.hypot(...Array.from(a, (value, c) => value - b[c]!));
  const start = distance(X0_3D, meanRow(plain.models.map((x) => [...x])));
  const gap = distance(
    meanRow(choco.models.map((x) => [...x])),
    meanRow(plain.models.map((x) => [...x])),
  );
  assert.ok(gap < 0.02 * start, `mean models ${gap} apart, started ${start} from it`);
  // As the learning rate decays to 0 the workers reach consensus (measured: 1e-4 apart).
  const mean = meanRow(choco.models.map((x) => [...x]));
  for (const model of choco.models) assert.ok(distance(model, mean) < 1e-3 * start);
  const loss = (x: ArrayLike<number>) =>
    shards.reduce((sum, shard) => sum + lsGradient(shard, x).loss, 0);
  assert.ok(loss(mean) < 0.5 * loss(X0_3D));
});

Deno.test("slowMo over chocoGossip: outer steps move the models, public copies stay shared", async () => {
  const n = 4;
  const plan = makePlan({
    workers: n,
    optimizer: sgd({ lr: 0.1 }),
    base: chocoGossip(ring, { gamma: 0.5 }),
    compress: topK({ k: 1, errorFeedback: false }),
    outer: slowMo({ tau: 3, beta: 0.5 }),
    steps: 6,
    dim: 3,
  });
  const { history, chains } = await runWorkers(plan, SHARDS_3D, X0_3D);
  // After an outer step every worker holds the same model.
  for (const k of [2, 5]) {
    for (const model of history[k]!) assert.deepEqual([...model], [...history[k]![0]!]);
  }
  const publics = chains.map((chain) => bufferOf(chain, "chocoGossip.public"));
  const d = 3;
  for (let i = 0; i < n; i++) {
    const inNeighbours = [(i + n - 1) % n, (i + 1) % n].sort((a, b) => a - b);
    for (const [slot, j] of inNeighbours.entries()) {
      assert.deepEqual(
        [...publics[i]!.subarray((slot + 1) * d, (slot + 2) * d)],
        [...publics[j]!.subarray(0, d)],
      );
    }
  }
});

Deno.test("chocoGossip refuses a graph whose neighbours change from step to step", () => {
  const comms = createMemoryCommunicators(4);
  const plan = makePlan({
    workers: 4,
    optimizer: sgd({ lr: 0.1 }),
    base: chocoGossip(onePeerExponential, { gamma: 0.5 }),
    steps: 1,
  });
  assert.throws(
    () =>
      chocoGossipBase(chocoGossip(onePeerExponential, { gamma: 0.5 }), {
        comm: comms[0]!,
        plan,
        x0: new Float32Array(2),
      } as unknown as BaseContext),
    /chocoGossip: its public copies need a fixed graph, but onePeerExponential changes every step \(period 2\)/,
  );
});
