/**
 * SGP in an elastic run: when a worker leaves, its push-sum numerator and weight leave with it.
 * The survivors push over the topology re-formed for them, so their weights keep summing to
 * `n − w_lost` and their de-biased models follow a float64 push-sum over the survivors alone.
 */

import assert from "node:assert/strict";
import { sgp } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import { pushSumMatrix, star, topologyOver } from "../../topologies/mod.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { joinerBuffers } from "./chain.ts";
import { elasticCommunicator } from "../worker/elastic_communicator.ts";
import {
  assertRowsClose,
  axpy,
  bufferOf,
  gradients,
  leastSquaresChain,
  makePlan,
  type Mat,
  matmul,
  repeat,
  SHARDS_2D,
  X0_2D,
} from "./_testing.ts";

const N = 4;
const LOST = 2;
const SURVIVORS = [0, 1, 3];
/** Steps with every worker, then steps over the survivors. */
const BEFORE = 3;
const STEPS = 8;
const LR = 0.1;

/** Float64 SGP over P(k), worker LOST frozen from step BEFORE on; Z and w after the run. */
function reference(before: Mat, after: Mat) {
  let X = repeat(N, X0_2D);
  let w = new Array<number>(N).fill(1);
  let lostWeight = NaN;
  for (let k = 0; k < STEPS; k++) {
    if (k === BEFORE) lostWeight = w[LOST]!;
    const P = k < BEFORE ? before : after;
    const G = gradients(SHARDS_2D.slice(0, N), X.map((x, i) => x.map((v) => v / w[i]!)));
    const moved = X.map((x, i) => k >= BEFORE && i === LOST ? x : axpy(x, -LR, G[i]!));
    X = matmul(P, moved);
    w = P.map((row) => row.reduce((s, p, j) => s + p * w[j]!, 0));
  }
  return { Z: X.map((x, i) => x.map((v) => v / w[i]!)), w, lostWeight };
}

Deno.test("sgp on a star losing worker 2: the survivors' push-sum weights sum to n − w_2", async () => {
  const topology = star({ hub: 0 });
  const plan = makePlan({
    workers: N,
    optimizer: sgd({ lr: LR }),
    base: sgp(topology),
    steps: STEPS,
  });
  const comms = createMemoryCommunicators(N);
  const chains = comms.map((comm, rank) => leastSquaresChain(plan, comm, SHARDS_2D[rank]!, X0_2D));
  const weight = (rank: number) => bufferOf(chains[rank]!, "sgp.weight")[0]!;
  let lostWeight = NaN;
  await Promise.all(chains.map(async (chain, rank) => {
    for (let k = 0; k < STEPS; k++) {
      if (k === BEFORE) {
        if (rank === LOST) {
          lostWeight = weight(rank);
          return;
        }
        comms[rank]!.setMembers(SURVIVORS);
      }
      await chain.step(k);
    }
  }));
  const expected = reference(
    pushSumMatrix(topology, N, 0),
    pushSumMatrix(topologyOver(topology, SURVIVORS, N), N, 0),
  );
  // The lost worker had a weight of its own (the star's push-sum is not doubly stochastic).
  assert.ok(Math.abs(lostWeight - 1) > 0.05, `w_2 = ${lostWeight}`);
  assert.ok(Math.abs(lostWeight - expected.lostWeight) < 1e-6);
  const sum = SURVIVORS.reduce((s, rank) => s + weight(rank), 0);
  assert.ok(Math.abs(sum - (N - lostWeight)) < 1e-5, `Σ w = ${sum}`);
  assertRowsClose(
    SURVIVORS.map((rank) => Array.from(chains[rank]!.model())),
    SURVIVORS.map((rank) => expected.Z[rank]!),
    1e-5,
  );
});

Deno.test("sgp: worker 2 rejoining takes half of its donor's push-sum mass, so Σ x and Σ w over the members are conserved", async () => {
  const topology = star({ hub: 0 });
  const JOIN = 6;
  const plan = {
    ...makePlan({ workers: N, optimizer: sgd({ lr: LR }), base: sgp(topology), steps: 10 }),
    elastic: { minWorkers: 3, maxWorkers: N, rejoin: true, reshard: "drop" as const },
  };
  // Replaceable communicators, as over TCP: the members after the join form a fresh group.
  const comms = createMemoryCommunicators(N).map(elasticCommunicator);
  const chains = comms.map((comm, rank) => leastSquaresChain(plan, comm, SHARDS_2D[rank]!, X0_2D));
  const steps = async (ranks: readonly number[], from: number, to: number) =>
    await Promise.all(ranks.map(async (rank) => {
      for (let k = from; k < to; k++) await chains[rank]!.step(k);
    }));
  await steps([0, 1, 2, 3], 0, BEFORE);
  for (const rank of SURVIVORS) comms[rank]!.setMembers(SURVIVORS);
  await steps(SURVIVORS, BEFORE, JOIN);
  const mass = (ranks: readonly number[]) => ({
    x: [0, 1].map((c) => ranks.reduce((s, rank) => s + bufferOf(chains[rank]!, "sgp.x")[c]!, 0)),
    w: ranks.reduce((s, rank) => s + bufferOf(chains[rank]!, "sgp.weight")[0]!, 0),
  });
  const before = mass(SURVIVORS);
  const donorModel = chains[0]!.model();
  // The join, as the worker loop does it: every member makes room, the donor's state is handed
  // over (made into the joiner's), and everyone goes on over all four.
  const fresh = createMemoryCommunicators(N);
  for (const [rank, comm] of comms.entries()) comm.replace(fresh[rank]!);
  for (const rank of SURVIVORS) chains[rank]!.joining([LOST], 0);
  const donated = new Map(chains[0]!.buffers().map(({ name, data }) => [name, data.slice()]));
  const joiner = leastSquaresChain(plan, comms[LOST]!, SHARDS_2D[LOST]!, X0_2D);
  joiner.restore(joinerBuffers(plan, LOST, donated));
  chains[LOST] = joiner;
  // Halving is exact in float32: the mass is the survivors' to the last bit.
  assert.deepEqual(mass([0, 1, 2, 3]), before);
  assert.equal(bufferOf(joiner, "sgp.weight")[0], bufferOf(chains[0]!, "sgp.weight")[0]);
  assert.deepEqual(joiner.model(), donorModel);
  assert.deepEqual(chains[0]!.model(), donorModel);
  await steps([0, 1, 2, 3], JOIN, 10);
  // Push-sum over the column-stochastic star keeps the total weight (a copied one would add w_0).
  const after = mass([0, 1, 2, 3]);
  assert.ok(Math.abs(after.w - before.w) < 1e-5, `Σ w ${after.w} vs ${before.w}`);
  assert.ok(Math.abs(before.w - N) > 0.05, "the lost worker took weight away");
});

Deno.test("sgp: a chain made while worker 2 is away (a run resumed without it) pushes over the re-formed topology from its first step", async () => {
  const topology = star({ hub: 0 });
  const plan = makePlan({ workers: N, optimizer: sgd({ lr: LR }), base: sgp(topology), steps: 8 });
  const comms = createMemoryCommunicators(N);
  const chains = comms.map((comm, rank) => leastSquaresChain(plan, comm, SHARDS_2D[rank]!, X0_2D));
  await Promise.all(chains.map(async (chain) => {
    for (let k = 0; k < BEFORE; k++) await chain.step(k);
  }));
  for (const rank of SURVIVORS) comms[rank]!.setMembers(SURVIVORS);
  // The resumed survivors: fresh communicators narrowed before their chains exist, and the state
  // the others have now.
  const resumedComms = createMemoryCommunicators(N);
  const resumed = SURVIVORS.map((rank) => {
    resumedComms[rank]!.setMembers(SURVIVORS);
    const chain = leastSquaresChain(plan, resumedComms[rank]!, SHARDS_2D[rank]!, X0_2D);
    chain.restore(new Map(chains[rank]!.buffers().map(({ name, data }) => [name, data.slice()])));
    return chain;
  });
  const go = (group: typeof chains) =>
    Promise.all(group.map(async (chain) => {
      for (let k = BEFORE; k < 8; k++) await chain.step(k);
    }));
  await go(SURVIVORS.map((rank) => chains[rank]!));
  await go(resumed);
  for (const [i, rank] of SURVIVORS.entries()) {
    assert.deepEqual(resumed[i]!.model(), chains[rank]!.model(), `worker ${rank}`);
  }
});
