/**
 * chocoGossip in an elastic run: when worker 2 of a 4-ring leaves, the survivors re-form the
 * graph (a 3-ring: each mixes with both others) and, at the first step over it, send their exact
 * models once and set every public copy to the model received (docs/algorithms.md §1.9,
 * "Elastic runs"). Worker 1 thus gets a true copy of worker 3, its new neighbour, and the
 * survivors go on as CHOCO over the 3-ring.
 */

import assert from "node:assert/strict";
import { chocoGossip } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import type { Plan } from "../../dsl/plan.ts";
import { ring } from "../../topologies/mod.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { joinerBuffers } from "./chain.ts";
import { elasticCommunicator } from "../worker/elastic_communicator.ts";
import { topK } from "../../dsl/compressors/top_k.ts";
import {
  assertRowsClose,
  axpy,
  bufferOf,
  gradients,
  leastSquaresChain,
  makePlan,
  type Mat,
  repeat,
  RING_4,
  SHARDS_2D,
  X0_2D,
} from "./_testing.ts";

const N = 4;
const LOST = 2;
const SURVIVORS = [0, 1, 3];
/** Steps with every worker (indices 0 … BEFORE − 1), then steps over the survivors. */
const BEFORE = 4;
const STEPS = 10;
const LR = 0.1;
const GAMMA = 0.5;
/** The 3-ring over the survivors, placed on the 4 ranks (worker 2 keeps itself alone). */
const AFTER: Mat = [
  [1 / 3, 1 / 3, 0, 1 / 3],
  [1 / 3, 1 / 3, 0, 1 / 3],
  [0, 0, 1, 0],
  [1 / 3, 1 / 3, 0, 1 / 3],
];

/**
 * Float64 CHOCO with the identity code, where every public copy equals its model after the
 * exchange: `x_i ← x_i − γ g_i`, then `x_i ← x_i + gamma Σ_j W_ij (x_j − x_i)`; worker 2 frozen
 * from step BEFORE on.
 */
function reference(): Mat[] {
  let X = repeat(N, X0_2D);
  const history: Mat[] = [];
  for (let k = 0; k < STEPS; k++) {
    const W = k < BEFORE ? RING_4 : AFTER;
    const G = gradients(SHARDS_2D.slice(0, N), X);
    const moved = X.map((x, i) => k >= BEFORE && i === LOST ? x : axpy(x, -LR, G[i]!));
    X = moved.map((x, i) =>
      x.map((value, c) =>
        value +
        GAMMA * W[i]!.reduce((sum, w, j) => sum + (j === i ? 0 : w * (moved[j]![c]! - value)), 0)
      )
    );
    history.push(X);
  }
  return history;
}

Deno.test("chocoGossip on a ring losing worker 2: the survivors reset their copies to the exact models once, then run CHOCO over the 3-ring", async () => {
  const base = makePlan({
    workers: N,
    optimizer: sgd({ lr: LR }),
    base: chocoGossip(ring, { gamma: GAMMA }),
    steps: STEPS,
  });
  const plan: Plan = {
    ...base,
    elastic: { minWorkers: 3, maxWorkers: N, rejoin: false, reshard: "drop" },
  };
  const comms = createMemoryCommunicators(N);
  const chains = comms.map((comm, rank) => leastSquaresChain(plan, comm, SHARDS_2D[rank]!, X0_2D));
  const history: Float32Array[][] = Array.from({ length: STEPS }, () => []);
  const gaps: number[][] = Array.from({ length: N }, () => []);
  await Promise.all(chains.map(async (chain, rank) => {
    for (let k = 0; k < STEPS; k++) {
      if (k === BEFORE) {
        if (rank === LOST) return;
        comms[rank]!.setMembers(SURVIVORS);
      }
      const step = await chain.step(k);
      gaps[rank]!.push(step.metrics.publicGapNorm as number);
      history[k]![rank] = chain.model();
    }
  }));
  const expected = reference();
  for (let k = 0; k < STEPS; k++) {
    const ranks = k < BEFORE ? [0, 1, 2, 3] : SURVIVORS;
    assertRowsClose(
      ranks.map((rank) => history[k]![rank]!),
      ranks.map((rank) => expected[k]![rank]!),
      1e-5,
      `step ${k}`,
    );
  }
  // The reset step sends models, not codes: nothing is left out of the copies.
  for (const rank of SURVIVORS) assert.equal(gaps[rank]![BEFORE], 0);
  // Worker 1's copy of worker 3 (a new neighbour) agrees bit for bit with worker 3's own.
  const d = X0_2D.length;
  const slot = (
    rank: number,
    of: number,
  ) => [...bufferOf(chains[rank]!, "chocoGossip.public").subarray(of * d, (of + 1) * d)];
  assert.deepEqual(slot(1, 3), slot(3, 3));
  assert.deepEqual(slot(0, 1), slot(1, 1));
  assert.deepEqual([...bufferOf(chains[1]!, "chocoGossip.over")], [1, 1, 0, 1]);
});

Deno.test("chocoGossip with topK: worker 2 rejoining the ring, every holder's public copy of a worker agrees with its own, bit for bit", async () => {
  const JOIN = 7;
  const plan: Plan = {
    ...makePlan({
      workers: N,
      optimizer: sgd({ lr: LR }),
      base: chocoGossip(ring, { gamma: GAMMA }),
      compress: topK({ k: 1 }),
      steps: 12,
    }),
    elastic: { minWorkers: 3, maxWorkers: N, rejoin: true, reshard: "drop" },
  };
  // Replaceable communicators, as over TCP: the members after the join form a fresh group.
  const comms = createMemoryCommunicators(N).map(elasticCommunicator);
  const chains = comms.map((comm, rank) => leastSquaresChain(plan, comm, SHARDS_2D[rank]!, X0_2D));
  const gaps: number[][] = Array.from({ length: N }, () => []);
  const steps = async (ranks: readonly number[], from: number, to: number) =>
    await Promise.all(ranks.map(async (rank) => {
      for (let k = from; k < to; k++) {
        gaps[rank]![k] = (await chains[rank]!.step(k)).metrics.publicGapNorm as number;
      }
    }));
  const d = X0_2D.length;
  const slot = (rank: number, of: number) => [
    ...bufferOf(chains[rank]!, "chocoGossip.public").subarray(of * d, (of + 1) * d),
  ];
  /** Every worker's own copy equals each ring neighbour's copy of it. */
  const assertCopiesAgree = (when: string) => {
    for (let rank = 0; rank < N; rank++) {
      for (const neighbour of [(rank + 1) % N, (rank + N - 1) % N]) {
        assert.deepEqual(
          slot(neighbour, rank),
          slot(rank, rank),
          `${when}: ${neighbour}'s copy of ${rank}`,
        );
      }
    }
  };
  await steps([0, 1, 2, 3], 0, BEFORE);
  for (const rank of SURVIVORS) comms[rank]!.setMembers(SURVIVORS);
  await steps(SURVIVORS, BEFORE, JOIN);
  const fresh = createMemoryCommunicators(N);
  for (const [rank, comm] of comms.entries()) comm.replace(fresh[rank]!);
  for (const rank of SURVIVORS) chains[rank]!.joining([LOST], 0);
  const donated = new Map(chains[0]!.buffers().map(({ name, data }) => [name, data.slice()]));
  const joiner = leastSquaresChain(plan, comms[LOST]!, SHARDS_2D[LOST]!, X0_2D);
  joiner.restore(joinerBuffers(plan, LOST, donated));
  chains[LOST] = joiner;
  // Before the first step over four, the copies of worker 2 are stale (from when it left) and
  // the joiner's own is the donor's: they disagree.
  assert.notDeepEqual(slot(1, 2), slot(2, 2));
  await steps([0, 1, 2, 3], JOIN, JOIN + 1);
  // That step sent exact models (nothing left out) and set every copy to the model received.
  for (let rank = 0; rank < N; rank++) assert.equal(gaps[rank]![JOIN], 0, `worker ${rank}`);
  assertCopiesAgree("after the join");
  await steps([0, 1, 2, 3], JOIN + 1, 12);
  // topK leaves part of each difference out, yet every holder applied the same codes.
  assert.ok(gaps[2]![11]! > 0);
  assertCopiesAgree("at the end");
  assert.deepEqual([...bufferOf(joiner, "chocoGossip.over")], [1, 1, 1, 1]);
});

Deno.test("chocoGossip: a chain made while worker 2 is away (a run resumed without it) mixes over the re-formed ring from its first step", async () => {
  const plan: Plan = {
    ...makePlan({
      workers: N,
      optimizer: sgd({ lr: LR }),
      base: chocoGossip(ring, { gamma: GAMMA }),
      steps: STEPS,
    }),
    elastic: { minWorkers: 3, maxWorkers: N, rejoin: false, reshard: "drop" },
  };
  const comms = createMemoryCommunicators(N);
  const chains = comms.map((comm, rank) => leastSquaresChain(plan, comm, SHARDS_2D[rank]!, X0_2D));
  const AT = BEFORE + 2;
  const go = (group: typeof chains, from: number, to: number) =>
    Promise.all(group.map(async (chain) => {
      for (let k = from; k < to; k++) await chain.step(k);
    }));
  await go(chains, 0, BEFORE);
  for (const rank of SURVIVORS) comms[rank]!.setMembers(SURVIVORS);
  const survivors = SURVIVORS.map((rank) => chains[rank]!);
  await go(survivors, BEFORE, AT);
  const resumedComms = createMemoryCommunicators(N);
  const resumed = SURVIVORS.map((rank) => {
    resumedComms[rank]!.setMembers(SURVIVORS);
    const chain = leastSquaresChain(plan, resumedComms[rank]!, SHARDS_2D[rank]!, X0_2D);
    chain.restore(new Map(chains[rank]!.buffers().map(({ name, data }) => [name, data.slice()])));
    return chain;
  });
  await go(survivors, AT, STEPS);
  await go(resumed, AT, STEPS);
  for (const [i, rank] of SURVIVORS.entries()) {
    assert.deepEqual(resumed[i]!.model(), chains[rank]!.model(), `worker ${rank}`);
  }
});
