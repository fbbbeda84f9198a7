/**
 * CADA in an elastic run: when worker 2 of 4 leaves, the server drops its stale upload from the
 * aggregated gradient and averages the survivors' latest uploads from then on
 * (docs/algorithms.md §4.1, "Elastic runs"). Checked against a float64 CADA2 reference whose
 * server averages over the live workers only.
 */

import assert from "node:assert/strict";
import { cada } from "../../dsl/bases/mod.ts";
import { sgd } from "../../dsl/optimizers/mod.ts";
import type { Plan } from "../../dsl/plan.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import type { StepMetrics } from "../metrics.ts";
import { createTrainingChain, joinerBuffers } from "./chain.ts";
import { elasticCommunicator } from "../worker/elastic_communicator.ts";
import {
  AdamReference,
  assertClose,
  assertRowsClose,
  axpy,
  bufferOf,
  leastSquaresChain,
  lsGradient,
  makePlan,
  meanRow,
  repeat,
  SHARDS_2D,
  type Vec,
  X0_2D,
} from "./_testing.ts";

const N = 4;
const LOST = 2;
const SURVIVORS = [0, 1, 3];
/** Steps with every worker (indices 0 … BEFORE − 1), then steps over the survivors. */
const BEFORE = 5;
const STEPS = 14;
const LR = 0.01;
const OPTIONS = { variant: 2, c: 2, dMax: 3, maxDelay: 4, amsgrad: true } as const;

/** `‖a − b‖²`. */
function squaredDistance(a: Vec, b: Vec): number {
  return a.reduce((sum, value, c) => sum + (value - b[c]!) ** 2, 0);
}

/**
 * Float64 CADA2 on full-batch shards, where the server's `∇` is the mean of the latest uploads
 * of the workers live at each step: the iterates, and which live worker uploaded at each step.
 */
function reference(live: (k: number) => readonly number[], rejoinAt: number | null = null) {
  const { c, dMax, maxDelay } = OPTIONS;
  const server = new AdamReference(1, 2, {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    biasCorrection: false,
    amsgrad: true,
  });
  let theta: Vec = [...X0_2D];
  const changes: number[] = [];
  const last = new Array<number>(N).fill(-1);
  const references = repeat(N, X0_2D);
  const latest = repeat(N, [0, 0]);
  const thetas: Vec[] = [];
  const uploads: Map<number, boolean>[] = [];
  for (let k = 0; k < STEPS; k++) {
    const threshold = c / dMax * changes.slice(0, dMax).reduce((sum, value) => sum + value, 0);
    const members = live(k);
    // A worker that joins again starts with no uploads: its first step uploads its gradient.
    if (k === rejoinAt) last[LOST] = -1;
    const uploaded = new Map<number, boolean>();
    for (const m of members) {
      const shard = SHARDS_2D[m]!;
      const fresh = lsGradient(shard, theta).grad;
      const forced = last[m]! < 0 || k - last[m]! >= maxDelay;
      const upload = forced ||
        squaredDistance(fresh, lsGradient(shard, references[m]!).grad) > threshold;
      if (upload) {
        latest[m] = fresh;
        last[m] = k;
        references[m] = [...theta];
      }
      uploaded.set(m, upload);
    }
    uploads.push(uploaded);
    const mean = meanRow(members.map((m) => latest[m]!));
    const next = axpy(theta, -LR, server.direction(0, mean));
    changes.unshift(squaredDistance(next, theta));
    theta = next;
    thetas.push(theta);
  }
  return { thetas, uploads };
}

/** The plan, elastic so the server keeps each worker's uploads apart. */
function elasticPlan(): Plan {
  const plan = makePlan({
    workers: N,
    optimizer: sgd({ lr: LR }),
    base: cada(OPTIONS),
    steps: STEPS,
  });
  return { ...plan, elastic: { minWorkers: 3, maxWorkers: N, rejoin: false, reshard: "drop" } };
}

Deno.test("cada losing worker 2: the server drops its stale upload and averages the survivors' latest", async () => {
  const plan = elasticPlan();
  const comms = createMemoryCommunicators(N);
  const chains = comms.map((comm, rank) => leastSquaresChain(plan, comm, SHARDS_2D[rank]!, X0_2D));
  const history: Float32Array[][] = Array.from({ length: STEPS }, () => []);
  const metrics: StepMetrics[][] = Array.from({ length: N }, () => []);
  let lostSum: Float32Array | null = null;
  await Promise.all(chains.map(async (chain, rank) => {
    for (let k = 0; k < STEPS; k++) {
      if (k === BEFORE) {
        if (rank === LOST) {
          lostSum = Float32Array.from(bufferOf(chain, "cada.uploaded"));
          return;
        }
        comms[rank]!.setMembers(SURVIVORS);
      }
      const step = await chain.step(k);
      metrics[rank]!.push(step.metrics);
      history[k]![rank] = chain.model();
    }
  }));
  const expected = reference((k) => k < BEFORE ? [0, 1, 2, 3] : SURVIVORS);
  for (let k = 0; k < STEPS; k++) {
    const ranks = k < BEFORE ? [0, 1, 2, 3] : SURVIVORS;
    assertRowsClose(
      ranks.map((rank) => history[k]![rank]!),
      repeat(ranks.length, expected.thetas[k]!),
      1e-5,
      `step ${k}`,
    );
    for (const rank of ranks) {
      assert.equal(
        metrics[rank]![k]!.uploaded,
        expected.uploads[k]!.get(rank),
        `worker ${rank} at step ${k}`,
      );
    }
  }
  const after = expected.uploads.slice(BEFORE).flatMap((step) => [...step.values()]);
  assert.ok(after.includes(false) && after.includes(true), "survivors both skip and upload");
  // The server's sum is the mean of the survivors' upload sums; the lost worker's is not in it.
  const sent = SURVIVORS.map((rank) => [...bufferOf(chains[rank]!, "cada.uploaded")]);
  const server = bufferOf(chains[0]!, "cada.gradient");
  assertClose(server, meanRow(sent), 1e-12, "server sum over the survivors");
  const withLost = meanRow([...sent, [...lostSum!]]);
  assert.ok(Math.abs(server[0]! - withLost[0]!) > 1e-6, "the lost worker's upload is dropped");
  assert.deepEqual([...bufferOf(chains[0]!, "cada.over")], [1, 1, 0, 1]);
});

Deno.test("cada outside elastic runs keeps no per-worker sums (its checkpoints are unchanged)", () => {
  const plan = makePlan({ workers: N, optimizer: sgd({ lr: LR }), base: cada(OPTIONS), steps: 1 });
  const [comm] = createMemoryCommunicators(N);
  const chain = createTrainingChain({
    plan,
    comm: comm!,
    x0: Float32Array.from(X0_2D),
    gradient: () => Promise.resolve({ loss: 0, grad: new Float32Array(2) }),
  });
  const names = chain.buffers().map((buffer) => buffer.name);
  assert.ok(names.includes("cada.gradient"));
  assert.ok(!names.includes("cada.received") && !names.includes("cada.over"));
});

Deno.test("cada: worker 2 rejoining starts with no uploads in a slot the server cleared; the server's sum stays the members' latest gradients", async () => {
  const JOIN = 9;
  const plan = elasticPlan();
  // Replaceable communicators, as over TCP: the members after the join form a fresh group.
  const comms = createMemoryCommunicators(N).map(elasticCommunicator);
  const chains = comms.map((comm, rank) => leastSquaresChain(plan, comm, SHARDS_2D[rank]!, X0_2D));
  const history: Float32Array[][] = Array.from({ length: STEPS }, () => []);
  const metrics: StepMetrics[][] = Array.from({ length: N }, () => []);
  const steps = async (ranks: readonly number[], from: number, to: number) =>
    await Promise.all(ranks.map(async (rank) => {
      for (let k = from; k < to; k++) {
        const step = await chains[rank]!.step(k);
        metrics[rank]![k] = step.metrics;
        history[k]![rank] = chains[rank]!.model();
      }
    }));
  await steps([0, 1, 2, 3], 0, BEFORE);
  for (const rank of SURVIVORS) comms[rank]!.setMembers(SURVIVORS);
  await steps(SURVIVORS, BEFORE, JOIN);
  const stale = [...bufferOf(chains[0]!, "cada.received").subarray(2 * 2, 3 * 2)];
  assert.ok(stale.some((value) => value !== 0), "the server kept the lost worker's old sum");
  const fresh = createMemoryCommunicators(N);
  for (const [rank, comm] of comms.entries()) comm.replace(fresh[rank]!);
  for (const rank of SURVIVORS) chains[rank]!.joining([LOST], 0);
  assert.deepEqual([...bufferOf(chains[0]!, "cada.received").subarray(2 * 2, 3 * 2)], [0, 0]);
  const donated = new Map(chains[0]!.buffers().map(({ name, data }) => [name, data.slice()]));
  const joiner = leastSquaresChain(plan, comms[LOST]!, SHARDS_2D[LOST]!, X0_2D);
  // The server's own buffers stay with it; the joiner is a worker with no uploads yet.
  joiner.restore(joinerBuffers(plan, LOST, donated));
  assert.deepEqual([...bufferOf(joiner, "cada.uploaded")], [0, 0]);
  assert.deepEqual(joiner.model(), chains[0]!.model());
  chains[LOST] = joiner;
  await steps([0, 1, 2, 3], JOIN, STEPS);
  const all = [0, 1, 2, 3];
  const expected = reference((k) => k < BEFORE || k >= JOIN ? all : SURVIVORS, JOIN);
  for (let k = 0; k < STEPS; k++) {
    const ranks = k < BEFORE || k >= JOIN ? all : SURVIVORS;
    assertRowsClose(
      ranks.map((rank) => history[k]![rank]!),
      repeat(ranks.length, expected.thetas[k]!),
      1e-5,
      `step ${k}`,
    );
    for (const rank of ranks) {
      assert.equal(metrics[rank]![k]!.uploaded, expected.uploads[k]!.get(rank), `${rank} at ${k}`);
    }
  }
  assert.equal(metrics[LOST]![JOIN]!.uploaded, true, "the joiner uploads at once");
  // The server's sum is the mean of the four workers' own upload sums, the joiner's included.
  const sent = all.map((rank) => [...bufferOf(chains[rank]!, "cada.uploaded")]);
  assertClose(bufferOf(chains[0]!, "cada.gradient"), meanRow(sent), 1e-12, "server sum");
  assert.deepEqual([...bufferOf(chains[0]!, "cada.over")], [1, 1, 1, 1]);
});
