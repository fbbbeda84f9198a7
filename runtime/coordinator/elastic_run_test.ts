/**
 * Elastic runs on the memory transport: a worker that leaves at step `leaveAt` stops before that
 * step's synchronisation, and the survivors go on over their own membership. Checked against
 * references driven by hand from the same parts (models, shards, memory communicators): an
 * all-reduce run equals, bit for bit, 4 workers for `leaveAt − 1` steps followed by a 3-worker
 * all-reduce of the survivors on their shards; a gossip ring's survivors mix with the 3-ring's
 * weights; the survivors reach the least-squares solution of their own shards.
 */

import { deepEqual, equal, match, notDeepEqual, ok, rejects } from "node:assert/strict";
import {
  allReduce,
  cada,
  chocoGossip,
  decentLaM,
  diloco,
  dmSgd,
  dqSgd,
  fetchSgd,
  gossip,
  leastSquares,
  linear,
  localSgd,
  network,
  onePeerExponential,
  overlapLocalSgd,
  qsgd,
  ring,
  run,
  RunError,
  sgd,
  sgp,
  sketchedSgd,
  slowMo,
  topK,
  train,
} from "../../mod.ts";
import type { CompressorNode } from "../../dsl/plan.ts";
import { FRAME_HEADER_BYTES } from "../comm/wire.ts";
import type { Plan } from "../../dsl/plan.ts";
import { planMembership } from "../../dsl/elastic.ts";
import type { BaseNode } from "../../dsl/bases/mod.ts";
import { createMemoryCommunicators } from "../comm/memory_transport.ts";
import { loadWorkerData } from "../data/worker_data.ts";
import { createModel } from "../models/create_model.ts";
import type { TrainableModel } from "../models/types.ts";
import type { WorkerData } from "../data/types.ts";
import { resume } from "./resume.ts";
import { readCheckpoint } from "./checkpoints.ts";
import { elasticResumeProblem } from "../worker/membership.ts";
import { deterministicLines } from "../../tests/runtime/_plans.ts";

const FILE = new URL("../../examples/data/least_squares_4.json", import.meta.url);
const LR = 0.05;
const SURVIVORS = [0, 1, 3];

const pipeline = (base: BaseNode, steps: number, lr = LR) =>
  train(linear({ dim: 3 })).data(leastSquares({ file: FILE })).workers(4)
    .optimizer(sgd({ lr })).base(base).steps(steps).evalEvery(steps);

/** The pipeline with worker 2 leaving at step `leaveAt` (steps counted from 1). */
const losing = (
  base: BaseNode,
  steps: number,
  leaveAt: number,
  lr = LR,
  reshard: "drop" | "spread" = "drop",
) =>
  pipeline(base, steps, lr).elastic({ minWorkers: 3, reshard })
    .network(network({ failures: [{ worker: 2, leaveAt }] })).compile();

async function inTemp<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_elastic_run_" });
  try {
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Each rank's model and shard of the 4-worker plan. */
async function parts(plan: Plan): Promise<{ model: TrainableModel; data: WorkerData }[]> {
  return await Promise.all([0, 1, 2, 3].map(async (rank) => ({
    model: await createModel(plan),
    data: await loadWorkerData(plan, rank),
  })));
}

/**
 * Synchronous SGD driven by hand: the `ranks` (original ranks, for their shards) on a fresh group
 * of memory communicators, one all-reduce of the gradients per step, `x −= lr · mean`.
 */
async function allReduceSteps(
  workers: { model: TrainableModel; data: WorkerData }[],
  ranks: readonly number[],
  xs: Float32Array[],
  from: number,
  to: number,
): Promise<void> {
  const comms = createMemoryCommunicators(ranks.length);
  for (let k = from; k < to; k++) {
    await Promise.all(ranks.map(async (rank, i) => {
      const { model, data } = workers[rank]!;
      const { grad } = await model.gradient(xs[i]!, data.batch(k));
      const mean = await comms[i]!.allReduceMeanInPlace(grad, "base");
      for (let t = 0; t < mean.length; t++) xs[i]![t] = xs[i]![t]! - LR * mean[t]!;
    }));
  }
}

for (const clock of ["real", "virtual"] as const) {
  Deno.test(`allReduce (${clock} clock): worker 2 leaving at step 6 equals 4 workers for 5 steps, then 3`, async () => {
    const steps = 12;
    const leaveAt = 6;
    const plan = losing(allReduce(), steps, leaveAt);
    await inTemp(async (dir) => {
      const result = await run(plan, { transport: "memory", out: `${dir}/run`, clock });
      const workers = await parts(plan);
      try {
        const x0 = workers[0]!.model.initialParameters(plan.seed);
        const xs = [0, 1, 2, 3].map(() => x0.slice());
        await allReduceSteps(workers, [0, 1, 2, 3], xs, 0, leaveAt - 1);
        const left = xs[2]!.slice();
        const survivors = SURVIVORS.map((rank) => xs[rank]!);
        await allReduceSteps(workers, SURVIVORS, survivors, leaveAt - 1, steps);
        for (const [i, rank] of SURVIVORS.entries()) {
          deepEqual(result.params.workers[rank], Array.from(survivors[i]!), `worker ${rank}`);
        }
        // The lost worker's entry is its model when it left, and it is marked.
        deepEqual(result.params.workers[2], Array.from(left));
        deepEqual(result.params.left, [{ worker: 2, steps: leaveAt - 1 }]);
        // Every survivor holds the same model: the average over them is that model.
        deepEqual(result.params.average, Array.from(survivors[0]!));
        notDeepEqual(result.params.workers[2], result.params.workers[0]);
      } finally {
        for (const { model } of workers) model.dispose();
      }
      const change = { step: leaveAt - 1, left: [2], members: SURVIVORS, reason: "declared" };
      deepEqual(result.summary.membership, [change]);
      const lines = (await Deno.readTextFile(`${dir}/run/metrics.jsonl`)).trim().split("\n")
        .map((line) => JSON.parse(line));
      deepEqual(lines.filter((line) => line.type === "membership"), [
        { type: "membership", worker: 0, ...change },
      ]);
      // Worker 2's last step line is its last step before leaving; the others run to the end.
      const lastStep = (rank: number) =>
        Math.max(...lines.filter((l) => l.type === "step" && l.worker === rank).map((l) => l.step));
      deepEqual([0, 1, 2, 3].map(lastStep), [steps - 1, steps - 1, leaveAt - 2, steps - 1]);
      const summary = JSON.parse(await Deno.readTextFile(`${dir}/run/summary.json`));
      deepEqual(summary.membership, [change]);
      deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/run/params.json`)).left, [
        { worker: 2, steps: leaveAt - 1 },
      ]);
    });
  });
}

Deno.test("gossip on a ring: after worker 2 leaves, the survivors mix with the 3-ring's weights", async () => {
  const leaveAt = 5;
  await inTemp(async (dir) => {
    // The survivors' models before step leaveAt, from a plain run of leaveAt − 1 steps, and
    // after it, from the elastic run that stops at step leaveAt.
    const before = await run(pipeline(gossip(ring), leaveAt - 1).compile(), {
      transport: "memory",
      out: `${dir}/before`,
    });
    const plan = losing(gossip(ring), leaveAt, leaveAt);
    const after = await run(plan, { transport: "memory", out: `${dir}/after` });
    const workers = await parts(plan);
    try {
      const x = before.params.workers.map((model) => Float32Array.from(model!));
      for (const rank of SURVIVORS) {
        const { grad } = await workers[rank]!.model.gradient(
          x[rank]!,
          workers[rank]!.data.batch(leaveAt - 1),
        );
        // The ring over 3 workers: each one weighs itself and the two others by 1/3.
        const mixed = (peers: readonly number[], weight: (peer: number) => number) =>
          Array.from(
            Float32Array.from(
              x[rank]!,
              (_, t) =>
                peers.reduce((sum, peer) => sum + weight(peer) * x[peer]![t]!, 0) -
                LR * grad[t]!,
            ),
          );
        const expected = mixed(SURVIVORS, () => 1 / 3);
        after.params.workers[rank]!.forEach((value, t) =>
          ok(Math.abs(value - expected[t]!) < 1e-6, `worker ${rank}, parameter ${t}`)
        );
        // The 4-ring's mixing (over the lost worker's model) would be told apart.
        const fourRing = [(rank + 3) % 4, rank, (rank + 1) % 4];
        if (fourRing.includes(2)) {
          const stale = mixed(fourRing, () => 1 / 3);
          ok(stale.some((value, t) => Math.abs(value - expected[t]!) > 1e-4));
        }
      }
      deepEqual(after.params.workers[2], before.params.workers[2]);
    } finally {
      for (const { model } of workers) model.dispose();
    }
  });
});

Deno.test("localSgd + diloco losing worker 0: the survivors average among themselves and worker 1 evaluates", async () => {
  const steps = 20;
  const plan = pipeline(localSgd({ tau: 5 }), steps).outer(diloco({ tau: 5 }))
    .elastic({ minWorkers: 3 }).network(network({ failures: [{ worker: 0, leaveAt: 8 }] }))
    .compile();
  await inTemp(async (dir) => {
    const result = await run(plan, { transport: "memory", out: `${dir}/run` });
    // The outer step after step 20 gives every survivor the same model: their average.
    for (const rank of [2, 3]) deepEqual(result.params.workers[rank], result.params.workers[1]);
    deepEqual(result.params.average, result.params.workers[1]);
    notDeepEqual(result.params.workers[0], result.params.workers[1]);
    deepEqual(result.params.left, [{ worker: 0, steps: 7 }]);
    // The averaged model is still evaluated, by the lowest-ranked survivor.
    equal(result.summary.final?.step, steps - 1);
    const lines = (await Deno.readTextFile(`${dir}/run/metrics.jsonl`)).trim().split("\n")
      .map((line) => JSON.parse(line));
    deepEqual(
      lines.filter((line) => line.type === "eval").map((line) => [line.model, line.worker]),
      [["average", null]],
    );
    deepEqual(lines.filter((line) => line.type === "membership"), [
      {
        type: "membership",
        step: 7,
        worker: 1,
        left: [0],
        members: [1, 2, 3],
        reason: "declared",
      },
    ]);
  });
});

Deno.test("each base family losing a worker is deterministic: the same parameters on both clocks and on a replay", async () => {
  const bases: BaseNode[] = [
    localSgd({ tau: 4 }),
    sgp(onePeerExponential),
    dmSgd(ring),
    decentLaM(ring),
  ];
  await inTemp(async (dir) => {
    for (const [i, base] of bases.entries()) {
      const plan = i === 0
        ? pipeline(base, 16).outer(slowMo({ tau: 4, beta: 0.5 })).elastic({ minWorkers: 3 })
          .network(network({ failures: [{ worker: 2, leaveAt: 7 }] })).compile()
        : losing(base, 16, 7);
      const params = [];
      for (const [j, clock] of (["real", "virtual", "real"] as const).entries()) {
        const result = await run(plan, { transport: "memory", out: `${dir}/${i}_${j}`, clock });
        equal(result.summary.status, "completed");
        deepEqual(result.params.left, [{ worker: 2, steps: 6 }]);
        params.push(result.params);
      }
      deepEqual(params[1], params[0], `${base.kind}: virtual clock`);
      deepEqual(params[2], params[0], `${base.kind}: replay`);
    }
  });
});

Deno.test("cada losing worker 2 (declared): the run completes and every survivor holds the server's iterate, on both clocks", async () => {
  const plan = losing(cada({ c: 0.5, maxDelay: 4 }), 16, 7);
  await inTemp(async (dir) => {
    const result = await run(plan, { transport: "memory", out: `${dir}/run` });
    equal(result.summary.status, "completed");
    deepEqual(result.params.left, [{ worker: 2, steps: 6 }]);
    for (const rank of [1, 3]) deepEqual(result.params.workers[rank], result.params.workers[0]);
    deepEqual(result.params.average, result.params.workers[0]);
    notDeepEqual(result.params.workers[2], result.params.workers[0]);
    // The same run on the virtual clock gives the same parameters.
    const again = await run(plan, { transport: "memory", out: `${dir}/again`, clock: "virtual" });
    deepEqual(again.params, result.params);
  });
});

Deno.test("chocoGossip on a ring losing worker 2 (declared), bare and with qsgd: the run completes, the same on both clocks", async () => {
  const bare = losing(chocoGossip(ring, { gamma: 0.5 }), 16, 7);
  const compressed = pipeline(chocoGossip(ring, { gamma: 0.5 }), 16).compress(qsgd({ levels: 4 }))
    .elastic({ minWorkers: 3 }).network(network({ failures: [{ worker: 2, leaveAt: 7 }] }))
    .compile();
  await inTemp(async (dir) => {
    for (const [i, plan] of [bare, compressed].entries()) {
      const result = await run(plan, { transport: "memory", out: `${dir}/run${i}` });
      equal(result.summary.status, "completed");
      deepEqual(result.params.left, [{ worker: 2, steps: 6 }]);
      const again = await run(plan, {
        transport: "memory",
        out: `${dir}/again${i}`,
        clock: "virtual",
      });
      deepEqual(again.params, result.params);
    }
  });
});

/**
 * SGD on the members' mean gradient, in float64 from the same float32 iterate every worker holds:
 * all four workers' gradients averaged for the steps before `leaveAt`, the survivors' after.
 */
async function survivorsSgd(plan: Plan, steps: number, leaveAt: number): Promise<Float32Array> {
  const workers = await parts(plan);
  try {
    const x = workers[0]!.model.initialParameters(plan.seed);
    for (let k = 0; k < steps; k++) {
      const live = k < leaveAt - 1 ? [0, 1, 2, 3] : SURVIVORS;
      const sum = new Float64Array(x.length);
      for (const rank of live) {
        const { grad } = await workers[rank]!.model.gradient(x, workers[rank]!.data.batch(k));
        grad.forEach((value, t) => sum[t]! += value);
      }
      for (let t = 0; t < x.length; t++) x[t] = x[t]! - LR * sum[t]! / live.length;
    }
    return x;
  } finally {
    for (const { model } of workers) model.dispose();
  }
}

Deno.test("compressors that send everything (topK with k = d, collision-free sketches with k = d) with a declared leave: SGD on the survivors' mean", async () => {
  const steps = 12;
  const leaveAt = 6;
  // d = 3: top-3 sends every value; a sketch with 4 ≥ d columns has no collisions.
  const compressors = [
    topK({ k: 3 }),
    sketchedSgd({ rows: 3, cols: 4, k: 3 }),
    fetchSgd({ rows: 3, cols: 4, k: 3 }),
  ];
  const plan = (compressor: CompressorNode) =>
    pipeline(allReduce(), steps).compress(compressor).elastic({ minWorkers: 3 })
      .network(network({ failures: [{ worker: 2, leaveAt }] })).compile();
  const expected = await survivorsSgd(plan(compressors[0]!), steps, leaveAt);
  // Had the survivors divided by the run's four workers, the iterate would be told apart.
  const near = (a: ArrayLike<number>, tol: number) =>
    Array.from(a).every((value, t) => Math.abs(value - expected[t]!) < tol);
  await inTemp(async (dir) => {
    for (const compressor of compressors) {
      const result = await run(plan(compressor), {
        transport: "memory",
        out: `${dir}/${compressor.kind}`,
      });
      equal(result.summary.status, "completed");
      deepEqual(result.params.left, [{ worker: 2, steps: leaveAt - 1 }]);
      for (const rank of SURVIVORS) {
        ok(near(result.params.workers[rank]!, 1e-5), `${compressor.kind} worker ${rank}`);
      }
      ok(!near(result.params.workers[2]!, 1e-3), `${compressor.kind}: worker 2 left earlier`);
    }
  });
});

Deno.test("every compressor with a declared leave: the run completes, survivors agree, the same on both clocks and on a replay", async () => {
  const compressors: CompressorNode[] = [
    qsgd({ levels: 4 }),
    dqSgd({ minBits: 2, maxBits: 6, budgetBits: 4 }),
    sketchedSgd({ rows: 3, cols: 2, k: 1 }),
    fetchSgd({ rows: 3, cols: 2, k: 1 }),
    topK({ k: 1 }),
  ];
  await inTemp(async (dir) => {
    for (const compressor of compressors) {
      // localSgd for the codecs (their residual is per worker), allReduce for the sketches.
      const base = compressor.kind === "sketchedSgd" || compressor.kind === "fetchSgd"
        ? allReduce()
        : localSgd({ tau: 2 });
      const plan = pipeline(base, 16).compress(compressor).elastic({ minWorkers: 3 })
        .network(network({ failures: [{ worker: 2, leaveAt: 7 }] })).compile();
      const params = [];
      for (const [j, clock] of (["real", "virtual", "real"] as const).entries()) {
        const result = await run(plan, {
          transport: "memory",
          out: `${dir}/${compressor.kind}_${j}`,
          clock,
        });
        equal(result.summary.status, "completed");
        deepEqual(result.params.left, [{ worker: 2, steps: 6 }]);
        deepEqual(result.summary.membership, [
          { step: 6, left: [2], members: SURVIVORS, reason: "declared" },
        ]);
        // The last step synchronises (16 is a multiple of tau): the survivors hold one model.
        for (const rank of [1, 3]) {
          deepEqual(result.params.workers[rank], result.params.workers[0], compressor.kind);
        }
        params.push(result.params);
      }
      deepEqual(params[1], params[0], `${compressor.kind}: virtual clock`);
      deepEqual(params[2], params[0], `${compressor.kind}: replay`);
    }
  });
});

/** The metrics lines of a run folder. */
async function metricsLines(folder: string): Promise<Record<string, unknown>[]> {
  return (await Deno.readTextFile(`${folder}/metrics.jsonl`)).trim().split("\n")
    .map((line) => JSON.parse(line));
}

/** The pipeline with worker 1 away from step `leaveAt` until step `joinAt`. */
const rejoining = (base: BaseNode, steps: number, leaveAt: number, joinAt: number) =>
  pipeline(base, steps).elastic({ minWorkers: 3 })
    .network(network({ failures: [{ worker: 1, leaveAt, joinAt }] }));

for (const clock of ["real", "virtual"] as const) {
  Deno.test(`joinAt (${clock} clock): worker 1 away from step 5 to step 10 comes back with worker 0's state, as all-reduce by hand`, async () => {
    const steps = 16;
    const plan = rejoining(allReduce(), steps, 5, 10).compile();
    await inTemp(async (dir) => {
      const result = await run(plan, { transport: "memory", out: `${dir}/run`, clock });
      equal(result.summary.status, "completed");
      // By hand: four workers for steps 1–4, the other three for steps 5–9, and from step 10 all
      // four again, worker 1 starting from worker 0's model.
      const workers = await parts(plan);
      try {
        const x0 = workers[0]!.model.initialParameters(plan.seed);
        const xs = [0, 1, 2, 3].map(() => x0.slice());
        await allReduceSteps(workers, [0, 1, 2, 3], xs, 0, 4);
        const away = [0, 2, 3];
        await allReduceSteps(workers, away, away.map((rank) => xs[rank]!), 4, 9);
        xs[1] = xs[0]!.slice();
        await allReduceSteps(workers, [0, 1, 2, 3], xs, 9, steps);
        for (const rank of [0, 1, 2, 3]) {
          deepEqual(result.params.workers[rank], Array.from(xs[rank]!), `worker ${rank}`);
        }
      } finally {
        for (const { model } of workers) model.dispose();
      }
      equal(result.params.left, undefined, "nobody is missing at the end");
      const changes = [
        { step: 4, left: [1], members: [0, 2, 3], reason: "declared" },
        { step: 9, left: [], members: [0, 1, 2, 3], reason: "joined", joined: [1] },
      ];
      deepEqual(result.summary.membership, changes);
      const lines = await metricsLines(`${dir}/run`);
      deepEqual(
        lines.filter((line) => line.type === "membership"),
        changes.map((change) => ({ type: "membership", worker: 0, ...change })),
      );
      // Worker 1 has no step lines while it is away.
      const stepsOf = (rank: number) =>
        lines.filter((l) => l.type === "step" && l.worker === rank).map((l) => l.step);
      deepEqual(stepsOf(1), [0, 1, 2, 3, 9, 10, 11, 12, 13, 14, 15]);
      deepEqual(stepsOf(2).length, steps);
      // The hand-over is the state phase's alone: worker 0 sent one frame, worker 1 received it.
      const state = (side: "sent" | "received") =>
        result.summary.bytes.map((worker) => worker[side].state);
      const frame = state("sent")[0]!;
      ok(frame > FRAME_HEADER_BYTES, `a state frame of ${frame} bytes`);
      deepEqual(state("sent"), [frame, 0, 0, 0]);
      deepEqual(state("received"), [0, frame, 0, 0]);
    });
  });
}

Deno.test("joinAt with a compressor (topK, error feedback): the joiner synchronises with the others, the same on both clocks", async () => {
  const plan = rejoining(localSgd({ tau: 2 }), 12, 3, 8).compress(topK({ k: 1 })).compile();
  await inTemp(async (dir) => {
    const result = await run(plan, { transport: "memory", out: `${dir}/run` });
    equal(result.summary.status, "completed");
    // The last step synchronises: every worker holds the same model, the joiner included.
    for (const rank of [1, 2, 3]) deepEqual(result.params.workers[rank], result.params.workers[0]);
    const again = await run(plan, { transport: "memory", out: `${dir}/again`, clock: "virtual" });
    deepEqual(again.params, result.params);
  });
});

/** The least-squares solution over some shards: `(Σ AᵢᵀAᵢ) x = Σ Aᵢᵀbᵢ`, by Cramer's rule. */
async function solution(ranks: readonly number[]): Promise<number[]> {
  const { shards } = JSON.parse(await Deno.readTextFile(FILE)) as {
    shards: { A: number[][]; b: number[] }[];
  };
  const m = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  const v = [0, 0, 0];
  for (const rank of ranks) {
    const { A, b } = shards[rank]!;
    A.forEach((row, r) => {
      for (let i = 0; i < 3; i++) {
        v[i]! += row[i]! * b[r]!;
        for (let j = 0; j < 3; j++) m[i]![j]! += row[i]! * row[j]!;
      }
    });
  }
  const det = (a: number[][]) =>
    a[0]![0]! * (a[1]![1]! * a[2]![2]! - a[1]![2]! * a[2]![1]!) -
    a[0]![1]! * (a[1]![0]! * a[2]![2]! - a[1]![2]! * a[2]![0]!) +
    a[0]![2]! * (a[1]![0]! * a[2]![1]! - a[1]![1]! * a[2]![0]!);
  return [0, 1, 2].map((col) =>
    det(m.map((row, r) => row.map((x, c) => c === col ? v[r]! : x))) / det(m)
  );
}

Deno.test("the survivors reach the least-squares solution of their own shards (reshard drop)", async () => {
  const survivors = await solution(SURVIVORS);
  const everyone = await solution([0, 1, 2, 3]);
  const near = (a: readonly number[], b: readonly number[], tol: number) =>
    a.every((value, i) => Math.abs(value - b[i]!) < tol);
  ok(!near(survivors, everyone, 0.05), "the two solutions must differ for the test to tell");
  await inTemp(async (dir) => {
    const exact = await run(losing(allReduce(), 400, 20), {
      transport: "memory",
      out: `${dir}/allReduce`,
    });
    ok(near(exact.params.average, survivors, 1e-3), `allReduce: ${exact.params.average}`);
    // Gossip with a small step: the survivors agree to within it, around the solution (a
    // constant step leaves D-PSGD a bias of its order).
    const mixed = await run(losing(gossip(ring), 6000, 20, 0.005), {
      transport: "memory",
      out: `${dir}/gossip`,
    });
    for (const rank of SURVIVORS) {
      ok(near(mixed.params.workers[rank]!, survivors, 0.02), `gossip worker ${rank}`);
      ok(near(mixed.params.workers[rank]!, mixed.params.average, 0.02), `consensus ${rank}`);
    }
    ok(near(mixed.params.average, survivors, 5e-3), `gossip average: ${mixed.params.average}`);
  });
});

Deno.test("reshard spread: the survivors share the lost shard and reach the solution over all four", async () => {
  const everyone = await solution([0, 1, 2, 3]);
  const survivors = await solution(SURVIVORS);
  const near = (a: readonly number[], b: readonly number[], tol: number) =>
    a.every((value, i) => Math.abs(value - b[i]!) < tol);
  await inTemp(async (dir) => {
    const spread = await run(losing(allReduce(), 400, 20, LR, "spread"), {
      transport: "memory",
      out: `${dir}/spread`,
    });
    // Each survivor's 3 examples and one of worker 2's weigh the same: the mean over 12 examples.
    ok(near(spread.params.average, everyone, 1e-3), `spread: ${spread.params.average}`);
    ok(!near(spread.params.average, survivors, 0.05));
  });
});

Deno.test("elastic runs refused, with messages that say why: declared leaves over TCP, joins without a state to hand over, joins with checkpoints", async () => {
  const base = () => pipeline(allReduce(), 20).elastic({ minWorkers: 2 });
  const join = network({ failures: [{ worker: 1, leaveAt: 5, joinAt: 10 }] });
  const cases: [Plan, Parameters<typeof run>[1], RegExp][] = [
    [
      base().network(network({ failures: [{ worker: 1, leaveAt: 5 }] })).compile(),
      { transport: "tcp" },
      /declares leaves for --transport memory .*over TCP a worker leaves by dying/,
    ],
    [base().compile(), { transport: "tcp", localWorkers: 2 }, /--local-workers is not yet/],
    [
      base().network(join).compile(),
      { transport: "memory", checkpointEvery: 5 },
      /workers join again \(joinAt\) cannot write or resume from checkpoints yet/,
    ],
    [
      pipeline(overlapLocalSgd({ tau: 2 }), 20).elastic({ minWorkers: 2 }).network(join)
        .compile(),
      { transport: "memory" },
      /cannot join again \(joinAt\) with overlapLocalSgd yet/,
    ],
    [
      // Two workers: worker 0 leaves when worker 1 comes back, so nobody can hand it a state.
      train(linear({ dim: 3 })).data(leastSquares({ file: FILE })).workers(2)
        .optimizer(sgd({ lr: LR })).base(allReduce()).steps(20).elastic({ minWorkers: 1 })
        .network(network({
          failures: [{ worker: 1, leaveAt: 5, joinAt: 10 }, { worker: 0, leaveAt: 10 }],
        })).compile(),
      { transport: "memory" },
      /at step 10 workers join again but none of the workers live at step 9 stays/,
    ],
  ];
  await inTemp(async (dir) => {
    for (const [plan, options, message] of cases) {
      await rejects(
        run(plan, { ...options, out: `${dir}/run` }),
        (error: unknown) =>
          error instanceof RunError && error.message.startsWith("Cannot run the plan: ") &&
          message.test(error.message),
      );
    }
    equal([...Deno.readDirSync(dir)].length, 0);
  });
});

for (const clock of ["real", "virtual"] as const) {
  Deno.test(`random churn (${clock} clock): the run follows the seeded schedule, and replays it`, async () => {
    // 4 workers, a floor of 2, probability 0.04 with seed 3 over 30 steps: two of them leave.
    const plan = pipeline(gossip(ring), 30).elastic({ minWorkers: 2 })
      .network(network({ failures: [{ probability: 0.04, seed: 3 }] })).compile();
    const spans = planMembership(plan)!;
    equal(spans.length, 3, JSON.stringify(spans));
    // The summary's changes, from the schedule: before step `from`, i.e. at step index from − 1.
    const expected = spans.slice(1).map((span, i) => ({
      step: span.from - 1,
      left: spans[i]!.live.filter((rank) => !span.live.includes(rank)),
      members: span.live,
      reason: "declared",
    }));
    await inTemp(async (dir) => {
      const first = await run(plan, { transport: "memory", out: `${dir}/a`, clock });
      equal(first.summary.status, "completed");
      deepEqual(first.summary.membership, expected);
      const lost = [0, 1, 2, 3].filter((rank) => !spans.at(-1)!.live.includes(rank));
      deepEqual(
        first.params.left,
        lost.map((worker) => ({
          worker,
          steps: spans.find((span) => !span.live.includes(worker))!.from - 1,
        })),
      );
      const again = await run(plan, { transport: "memory", out: `${dir}/b`, clock });
      deepEqual(again.params, first.params);
    });
  });
}

/**
 * Runs `plan` with checkpoints every 4 steps, resumes it from `from` into another folder (and,
 * with `inPlace`, in its own folder, as an interrupted run is), and checks that the resumed run
 * equals the uninterrupted one: parameters, the lines but their timings, bytes and membership.
 */
async function assertElasticResumeIsExact(
  plan: Plan,
  from: number,
  clock: "real" | "virtual" = "real",
): Promise<void> {
  await inTemp(async (dir) => {
    const full = await run(plan, {
      transport: "memory",
      clock,
      out: `${dir}/full`,
      checkpointEvery: 4,
      keepCheckpoints: 10,
    });
    equal(full.summary.status, "completed");
    const resumed = await resume(`${dir}/full`, {
      transport: "memory",
      clock,
      from,
      out: `${dir}/r`,
    });
    deepEqual(resumed.params, full.params);
    deepEqual(resumed.summary.membership, full.summary.membership);
    deepEqual(resumed.summary.bytes, full.summary.bytes);
    deepEqual(resumed.summary.final, full.summary.final);
    // Virtual times follow measured compute (no computeMs declared): compared in real time only.
    if (clock === "real") {
      deepEqual(
        await deterministicLines(`${dir}/r`, false),
        await deterministicLines(`${dir}/full`, false),
      );
    }
  });
}

Deno.test("an elastic checkpoint records the live workers and the state each leaver left with", async () => {
  const plan = losing(allReduce(), 12, 6);
  await inTemp(async (dir) => {
    const full = await run(plan, { transport: "memory", out: `${dir}/run`, checkpointEvery: 4 });
    const before = await readCheckpoint(`${dir}/run`, plan, 4);
    const after = await readCheckpoint(`${dir}/run`, plan, 8);
    deepEqual(before.members, [0, 1, 2, 3]);
    deepEqual(after.members, SURVIVORS);
    deepEqual(after.lost, []);
    // Worker 2 left before step 6 (after 5 steps): the checkpoint after 8 holds that state, whose
    // model is the one params.json hands back for it.
    const model = after.workers[2]!.buffers.find((buffer) => buffer.name === "allReduce.x")!;
    deepEqual(Array.from(model.data), full.params.workers[2]);
  });
});

for (const clock of ["real", "virtual"] as const) {
  Deno.test(`allReduce (${clock} clock) losing worker 2 at step 6: resumed before and after the leave, it equals the uninterrupted run`, async () => {
    const plan = losing(allReduce(), 12, 6);
    await assertElasticResumeIsExact(plan, 4, clock);
    await assertElasticResumeIsExact(plan, 8, clock);
  });
}

Deno.test("every base family losing a worker resumes after the leave as the uninterrupted run", async (t) => {
  const plans: [string, Plan][] = [
    ["gossip(ring)", losing(gossip(ring), 12, 6)],
    ["sgp(onePeerExponential)", losing(sgp(onePeerExponential), 12, 6)],
    ["cada", losing(cada({ c: 0.5, maxDelay: 4 }), 12, 6)],
    ["chocoGossip(ring)", losing(chocoGossip(ring, { gamma: 0.5 }), 12, 6)],
    ["decentLaM(ring)", losing(decentLaM(ring), 12, 6)],
    [
      "localSgd + diloco, spread",
      pipeline(localSgd({ tau: 2 }), 12).outer(diloco({ tau: 4 }))
        .elastic({ minWorkers: 3, reshard: "spread" })
        .network(network({ failures: [{ worker: 2, leaveAt: 6 }] })).compile(),
    ],
  ];
  for (const [name, plan] of plans) await t.step(name, () => assertElasticResumeIsExact(plan, 8));
});

Deno.test("random churn resumed from a checkpoint between its leaves continues the schedule", async () => {
  const plan = pipeline(gossip(ring), 30).elastic({ minWorkers: 2 })
    .network(network({ failures: [{ probability: 0.04, seed: 3 }] })).compile();
  const spans = planMembership(plan)!;
  // A checkpoint after the first leave and before the second.
  const from = Math.ceil(spans[1]!.from / 4) * 4;
  ok(from < spans[2]!.from - 1, JSON.stringify(spans));
  await assertElasticResumeIsExact(plan, from);
});

Deno.test("an interrupted elastic run resumes in its own folder and ends as the uninterrupted run", async () => {
  const plan = losing(sgp(ring), 12, 6);
  await inTemp(async (dir) => {
    const reference = await run(plan, { transport: "memory", out: `${dir}/reference` });
    // The same run stopped after step 9: its newest checkpoint is after 8 steps.
    const controller = new AbortController();
    await rejects(
      run(plan, {
        transport: "memory",
        out: `${dir}/run`,
        checkpointEvery: 4,
        signal: controller.signal,
        onProgress: (progress) => {
          if (progress.step >= 9) controller.abort(new Error("Interrupted"));
        },
      }),
      /Interrupted[\s\S]*newest checkpoint is after 8 steps/,
    );
    const resumed = await resume(`${dir}/run`, { transport: "memory" });
    deepEqual(resumed.params, reference.params);
    deepEqual(resumed.summary.membership, reference.summary.membership);
  });
});

Deno.test("an elastic checkpoint resumes only with the members it was taken with", () => {
  const plan = losing(allReduce(), 12, 6);
  equal(
    elasticResumeProblem(plan, { transport: "memory", resume: { step: 8, members: SURVIVORS } }),
    null,
  );
  equal(
    elasticResumeProblem(plan, { transport: "memory", resume: { step: 4, members: [0, 1, 2, 3] } }),
    null,
  );
  match(
    elasticResumeProblem(plan, {
      transport: "memory",
      resume: { step: 8, members: [0, 1, 2, 3] },
    })!,
    /after 8 steps holds workers 0, 1, 2, 3, but the plan's declared schedule has 0, 1, 3 then/,
  );
  // A TCP run's lost workers have no state: their checkpoint resumes over TCP only.
  const tcp = { step: 8, members: SURVIVORS, lost: [{ worker: 2, steps: 5, reason: "killed" }] };
  match(
    elasticResumeProblem(plan, { transport: "memory", resume: tcp })!,
    /resume it with --transport tcp/,
  );
  equal(elasticResumeProblem(plan, { transport: "tcp", resume: tcp }), null);
  // Over TCP every worker is either a member or lost.
  match(
    elasticResumeProblem(plan, { transport: "tcp", resume: { ...tcp, lost: [] } })!,
    /neither or both that worker 2 is live and lost/,
  );
  const plain = pipeline(allReduce(), 12).compile();
  match(
    elasticResumeProblem(plain, { transport: "tcp", resume: { step: 8, members: SURVIVORS } })!,
    /holds workers 0, 1, 3 only, but the plan is not elastic/,
  );
});
