/**
 * Elastic training over TCP: one of four worker processes is killed (SIGKILL) mid-run and the
 * run completes with the other three, for each base family. The summary and `params.json` record
 * the loss, and a replay on the memory transport that declares the same leave
 * (`network({ failures: [{ worker: 2, leaveAt }] })`, `leaveAt` taken from the recorded rewind)
 * gives the survivors' parameters bit for bit: the step in flight when the worker died was redone
 * over the survivors on every survivor, never half-applied (with a compressor, its error feedback
 * and random draws too). With `reshard: "spread"` the
 * survivors also share out the lost worker's batches from that step on, as the replay does.
 * overlapLocalSgd and streamingDiloco keep a collective in flight across steps (overlapLocalSgd
 * nearly all the time: its latency outlasts the steps it overlaps), which the survivors must go
 * back to the start of and launch again: they are killed at three points each. (Reporting the
 * step a survivor noticed the loss in, as the other families do, failed the replay at all three
 * points for overlapLocalSgd and at one of three for streamingDiloco.)
 */

import assert from "node:assert/strict";
import { STACK_LINE } from "../_cli.ts";
import { externalRun, reap, startWith, TEST_SECRET, waitForMetrics } from "./_processes.ts";
import { leastSquaresPipeline, tempRunFolder } from "./_plans.ts";
import { listCheckpoints, readCheckpoint } from "../../runtime/coordinator/checkpoints.ts";
import { resume } from "../../runtime/coordinator/resume.ts";
import type { PhaseBytes } from "../../dsl/traffic.ts";
import { FRAME_HEADER_BYTES } from "../../runtime/comm/wire.ts";
import {
  adamw,
  allReduce,
  cada,
  chocoGossip,
  diloco,
  dmSgd,
  gossip,
  linear,
  localSgd,
  network,
  onePeerExponential,
  overlapLocalSgd,
  qsgd,
  ring,
  run,
  sgd,
  sgp,
  slowMo,
  streamingDiloco,
  synthetic,
  topK,
  train,
} from "../../mod.ts";

/** Steps of every run: long enough, with the latency below, to kill a worker in the middle. */
const STEPS = 240;

/** One-way latency of every message: it slows the runs so the kill lands mid-run. */
const LATENCY = "4ms";

/** The families the issue names, as pipelines on the four-shard least-squares problem. */
const FAMILIES = {
  "allReduce": () => leastSquaresPipeline(STEPS).base(allReduce()),
  "localSgd + slowMo": () =>
    leastSquaresPipeline(STEPS).base(localSgd({ tau: 3 })).outer(slowMo({ beta: 0.5, tau: 3 })),
  "diloco": () =>
    leastSquaresPipeline(STEPS).base(localSgd({ tau: 4 })).outer(
      diloco({ tau: 4, lr: 0.7, momentum: 0.9 }),
    ),
  "gossip on a ring": () => leastSquaresPipeline(STEPS).base(gossip(ring)),
  "sgp on one-peer exponential": () => leastSquaresPipeline(STEPS).base(sgp(onePeerExponential)),
  "dmSgd": () => leastSquaresPipeline(STEPS).base(dmSgd(ring, { beta: 0.5 })),
  "chocoGossip on a ring": () =>
    leastSquaresPipeline(STEPS).base(chocoGossip(ring, { gamma: 0.5 })),
  "cada (worker 2 is not its server)": () =>
    leastSquaresPipeline(STEPS).base(cada({ c: 0.5, maxDelay: 8 })),
  // Configurations of tests/runtime/_plans.ts's leastSquaresPlans.
  "overlapLocalSgd": () =>
    leastSquaresPipeline(STEPS).base(overlapLocalSgd({ tau: 3, alpha: 0.5, beta: 0.3 })),
  "localSgd + streamingDiloco": () =>
    leastSquaresPipeline(STEPS).optimizer(adamw({ lr: 0.05, weightDecay: 0.01 }))
      .base(localSgd({ tau: 4 })).outer(
        streamingDiloco({ tau: 4, fragments: 1, overlap: 1, bits: 4 }),
      ),
};

/** Metrics lines written before the kill: about step 30 of 240 (four step lines a step). */
const KILL_AFTER = 120;

/**
 * Each family with the lost shard dropped, and all-reduce with it spread over the survivors
 * (each survivor loads worker 2's shard once it is lost and takes a third of its batches); the
 * overlapping families also killed early and late (metrics lines before the kill).
 */
type Family = (typeof FAMILIES)[keyof typeof FAMILIES];
const CASES: [string, Family, "drop" | "spread", number][] = [
  ...Object.entries(FAMILIES).map(([family, pipeline]): [string, Family, "drop", number] => [
    family,
    pipeline,
    "drop",
    KILL_AFTER,
  ]),
  ["allReduce, reshard spread", FAMILIES.allReduce, "spread", KILL_AFTER],
  ...(["overlapLocalSgd", "localSgd + streamingDiloco"] as const).flatMap((family) =>
    [50, 500].map((lines): [string, Family, "drop", number] => [
      `${family}, killed after ${lines} metrics lines`,
      FAMILIES[family],
      "drop",
      lines,
    ])
  ),
  // Compressors: the survivors' rewind restores the compressor's state with the rest, and a
  // stochastic codec's draws (a stream per worker and step) come out the same when a step is redone.
  [
    "allReduce + qsgd",
    () => leastSquaresPipeline(STEPS).base(allReduce()).compress(qsgd({ levels: 4 })),
    "drop",
    KILL_AFTER,
  ],
  [
    "localSgd + topK with error feedback",
    () => leastSquaresPipeline(STEPS).base(localSgd({ tau: 3 })).compress(topK({ k: 1 })),
    "drop",
    KILL_AFTER,
  ],
];

for (const [family, pipeline, reshard, killAfter] of CASES) {
  Deno.test(`${family}: SIGKILL of worker 2 of 4 mid-run → the run completes with 3, and a memory replay of the leave agrees bit for bit`, async () => {
    const elastic = (as = reshard) => pipeline().elastic({ minWorkers: 3, reshard: as });
    const folder = await tempRunFolder();
    const plan = elastic().network(network({ latency: LATENCY })).compile();
    await Deno.writeTextFile(`${folder}/plan.json`, JSON.stringify(plan));
    const { coordinator, workers } = externalRun(`${folder}/plan.json`, `${folder}/run`);
    try {
      await waitForMetrics(`${folder}/run`, killAfter);
      workers[2]!.child.kill("SIGKILL");
      const result = await coordinator.output;
      assert.equal(result.code, 0, result.stderr);
      for (const rank of [0, 1, 3]) {
        const worker = await workers[rank]!.output;
        assert.equal(worker.code, 0, `worker ${rank}: ${worker.stderr}`);
      }
      const read = async (name: string) =>
        JSON.parse(await Deno.readTextFile(`${folder}/run/${name}`));
      const summary = await read("summary.json");
      assert.equal(summary.status, "completed");
      assert.equal(summary.membership.length, 1, JSON.stringify(summary.membership));
      const [change] = summary.membership;
      assert.deepEqual(
        { left: change.left, members: change.members, reason: change.reason },
        { left: [2], members: [0, 1, 3], reason: "lost" },
      );
      assert.match(
        change.detail,
        /Worker 2 disconnected from the coordinator|cannot reach worker 2/,
      );
      assert.ok(change.step > 0 && change.step < STEPS, `rewound to step ${change.step}`);
      const params = await read("params.json");
      assert.deepEqual(params.left, [{ worker: 2, steps: change.step }]);
      assert.equal(params.workers[2], null);

      // The replay: the same plan on the memory transport, worker 2 declared to leave where the
      // survivors rewound to (its last step with them was change.step − 1).
      const replay = await run(
        elastic().network(network({ failures: [{ worker: 2, leaveAt: change.step + 1 }] }))
          .compile(),
        { transport: "memory", out: `${folder}/replay` },
      );
      for (const rank of [0, 1, 3]) {
        assert.deepEqual(params.workers[rank], replay.params.workers[rank], `worker ${rank}`);
      }
      assert.deepEqual(params.average, replay.params.average);
      if (reshard === "spread") {
        // The survivors did train on worker 2's examples: dropping them gives other parameters.
        const dropped = await run(
          elastic("drop").network(network({ failures: [{ worker: 2, leaveAt: change.step + 1 }] }))
            .compile(),
          { transport: "memory", out: `${folder}/dropped` },
        );
        assert.notDeepEqual(params.average, dropped.params.average);
      }
    } finally {
      await Promise.all([coordinator, ...workers].map(reap));
      await Deno.remove(folder, { recursive: true });
    }
  });
}

Deno.test("below minWorkers a lost worker still ends the run, naming it and the minimum, with a checkpoint to resume from", async () => {
  const folder = await tempRunFolder();
  const plan = leastSquaresPipeline(100_000).base(gossip(ring)).elastic({ minWorkers: 4 })
    .compile();
  await Deno.writeTextFile(`${folder}/plan.json`, JSON.stringify(plan));
  const { coordinator, workers } = externalRun(
    `${folder}/plan.json`,
    `${folder}/run`,
    [],
    undefined,
    4,
    ["--checkpoint-every", "5"],
  );
  try {
    await waitForMetrics(`${folder}/run`, 80);
    workers[1]!.child.kill("SIGKILL");
    const result = await coordinator.output;
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /Worker 1 .*3 workers are left, fewer than the plan's minWorkers \(4\)/,
    );
    assert.doesNotMatch(result.stderr, STACK_LINE);
    const advice =
      /The newest checkpoint is after (\d+) steps\nContinue with: (deno task )?gossamer resume /
        .exec(result.stderr);
    assert.ok(advice !== null, result.stderr);
    const latest = Number(advice[1]);
    // Taken before the loss, it holds all four workers: a resume starts with four again.
    const checkpoint = await readCheckpoint(`${folder}/run`, plan, latest);
    assert.deepEqual(checkpoint.members, [0, 1, 2, 3]);
    assert.deepEqual(checkpoint.lost, []);
    assert.ok(checkpoint.workers.every((state) => state.buffers.length > 0));
    const resumed = await resume(`${folder}/run`, {
      transport: "memory",
      steps: latest + 5,
      out: `${folder}/resumed`,
    });
    assert.equal(resumed.summary.status, "completed");
    assert.equal(resumed.params.left, undefined);
  } finally {
    await Promise.all([coordinator, ...workers].map(reap));
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("cada losing its server (worker 0) ends the elastic run, naming it", async () => {
  const folder = await tempRunFolder();
  const plan = leastSquaresPipeline(100_000).base(cada({ c: 0.5 })).elastic({ minWorkers: 2 })
    .compile();
  await Deno.writeTextFile(`${folder}/plan.json`, JSON.stringify(plan));
  const { coordinator, workers } = externalRun(`${folder}/plan.json`, `${folder}/run`);
  try {
    await waitForMetrics(`${folder}/run`, 40);
    workers[0]!.child.kill("SIGKILL");
    const result = await coordinator.output;
    assert.equal(result.code, 1);
    assert.match(result.stderr, /worker 0, cada's server, was lost: Worker 0 /);
    assert.doesNotMatch(result.stderr, STACK_LINE);
  } finally {
    await Promise.all([coordinator, ...workers].map(reap));
    await Deno.remove(folder, { recursive: true });
  }
});

/** Waits until the run folder's metrics hold a membership line (the survivors went on). */
async function waitForMembership(folder: string, count: number): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 50) {
    const text = await Deno.readTextFile(`${folder}/metrics.jsonl`).catch(() => "");
    if (text.split('"type":"membership"').length - 1 >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${folder}/metrics.jsonl has no ${count} membership lines after 60 s`);
}

/**
 * Once 120 metrics lines are written: kills worker 2, waits until the coordinator records the
 * loss, and restarts it with `--join` at the rendezvous.
 */
async function killAndRejoin(
  folder: string,
  workers: { child: Deno.ChildProcess }[],
  rendezvous: string,
): Promise<ReturnType<typeof startWith>> {
  await waitForMetrics(`${folder}/run`, 120);
  workers[2]!.child.kill("SIGKILL");
  await waitForMembership(`${folder}/run`, 1);
  return startWith(
    { GOSSAMER_SECRET: TEST_SECRET },
    "worker",
    "--plan",
    `${folder}/plan.json`,
    "--rank",
    "2",
    "--world",
    "4",
    "--join",
    rendezvous,
  );
}

/**
 * The rejoin cases: plain all-reduce, and localSgd with topK, whose joiner starts its error
 * feedback at zero rather than copying the donor's (500 steps end on a synchronisation).
 */
const REJOINS = {
  "allReduce": () => leastSquaresPipeline(500).base(allReduce()),
  "localSgd + topK": () =>
    leastSquaresPipeline(500).base(localSgd({ tau: 4 })).compress(topK({ k: 1 })),
};

for (const [family, pipeline] of Object.entries(REJOINS)) {
  Deno.test(`${family}: a killed worker restarted with --join rejoins with a live worker's state: the run ends with 4 equal models, as a memory replay with joinAt`, async () => {
    const folder = await tempRunFolder();
    const plan = pipeline().elastic({ minWorkers: 3 }).network(network({ latency: LATENCY }))
      .compile();
    await Deno.writeTextFile(`${folder}/plan.json`, JSON.stringify(plan));
    const { coordinator, workers, rendezvous } = externalRun(
      `${folder}/plan.json`,
      `${folder}/run`,
    );
    let rejoined: ReturnType<typeof startWith> | null = null;
    try {
      rejoined = await killAndRejoin(folder, workers, rendezvous);
      const result = await coordinator.output;
      assert.equal(result.code, 0, result.stderr);
      const joined = await rejoined.output;
      assert.equal(joined.code, 0, joined.stderr);
      const read = async (name: string) =>
        JSON.parse(await Deno.readTextFile(`${folder}/run/${name}`));
      const summary = await read("summary.json");
      assert.equal(summary.status, "completed");
      assert.deepEqual(
        summary.membership.map((change: Record<string, unknown>) => [
          change.reason,
          change.left,
          change.members,
          change.joined ?? [],
        ]),
        [["lost", [2], [0, 1, 3], []], ["joined", [], [0, 1, 2, 3], [2]]],
      );
      assert.ok(summary.membership[1].step > summary.membership[0].step);
      const params = await read("params.json");
      assert.equal(params.left, undefined, "nobody is missing at the end");
      // Every model is equal after the last synchronisation: the joiner's too.
      for (const rank of [1, 2, 3]) assert.deepEqual(params.workers[rank], params.workers[0]);
      // The hand-over's bytes are the state phase's alone: rank 0 (the lowest live worker) sent
      // one frame to the joiner, which received it; nobody else sent or received a state.
      const state = (side: "sent" | "received") =>
        summary.bytes.map((worker: Record<typeof side, PhaseBytes>) => worker[side].state);
      const frame = state("sent")[0];
      assert.ok(frame > FRAME_HEADER_BYTES, `a state frame of ${frame} bytes`);
      assert.deepEqual(state("sent"), [frame, 0, 0, 0]);
      assert.deepEqual(state("received"), [0, 0, frame, 0]);

      // The same leave and return declared on the memory transport (joinAt) records the same
      // changes at the same steps, hands over the same state, and ends with the same models.
      const [lost, back] = summary.membership;
      const replay = await run(
        pipeline().elastic({ minWorkers: 3 }).network(
          network({ failures: [{ worker: 2, leaveAt: lost.step + 1, joinAt: back.step + 1 }] }),
        ).compile(),
        { transport: "memory", out: `${folder}/replay` },
      );
      assert.deepEqual(replay.summary.membership, [
        { step: lost.step, left: [2], members: [0, 1, 3], reason: "declared" },
        { step: back.step, left: [], members: [0, 1, 2, 3], reason: "joined", joined: [2] },
      ]);
      assert.deepEqual(replay.summary.bytes.map((worker) => worker.sent.state), state("sent"));
      assert.deepEqual(
        replay.summary.bytes.map((worker) => worker.received.state),
        state("received"),
      );
      assert.deepEqual(replay.params.workers, params.workers);
    } finally {
      await Promise.all(
        [coordinator, ...workers, ...(rejoined === null ? [] : [rejoined])].map(reap),
      );
      await Deno.remove(folder, { recursive: true });
    }
  });
}

Deno.test("a run of two that loses one goes on alone: a mesh of one member", async () => {
  const folder = await tempRunFolder();
  const plan = train(linear({ dim: 8 }))
    .data(synthetic({ task: "regression", features: 8, trainSize: 256, batchSize: 16 }))
    .workers(2).optimizer(sgd({ lr: 0.05 })).base(allReduce()).steps(STEPS).seed(3)
    .elastic({ minWorkers: 1 }).network(network({ latency: LATENCY })).compile();
  await Deno.writeTextFile(`${folder}/plan.json`, JSON.stringify(plan));
  const plans = Array(4).fill(`${folder}/plan.json`);
  const { coordinator, workers } = externalRun(
    `${folder}/plan.json`,
    `${folder}/run`,
    [],
    plans,
    2,
  );
  try {
    await waitForMetrics(`${folder}/run`, 120).catch(async (error) => {
      for (const started of [coordinator, ...workers]) {
        try {
          started.child.kill("SIGKILL");
        } catch { /* exited already */ }
      }
      const said = await Promise.all([coordinator, ...workers].map((p) => p.output));
      throw new Error(`${error.message}: ${said.map((r) => r.stderr).join("\n--\n")}`);
    });
    workers[1]!.child.kill("SIGKILL");
    const result = await coordinator.output;
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(await Deno.readTextFile(`${folder}/run/summary.json`));
    assert.deepEqual(summary.membership.map((change: { members: number[] }) => change.members), [[
      0,
    ]]);
    const params = JSON.parse(await Deno.readTextFile(`${folder}/run/params.json`));
    assert.deepEqual(params.average, params.workers[0]);
  } finally {
    await Promise.all([coordinator, ...workers].map(reap));
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("losing worker 0: the run completes and its model's layout comes from worker 1", async () => {
  const folder = await tempRunFolder();
  const plan = leastSquaresPipeline(STEPS).base(allReduce()).elastic({ minWorkers: 3 })
    .network(network({ latency: LATENCY })).compile();
  await Deno.writeTextFile(`${folder}/plan.json`, JSON.stringify(plan));
  const { coordinator, workers } = externalRun(`${folder}/plan.json`, `${folder}/run`);
  try {
    await waitForMetrics(`${folder}/run`, 120);
    workers[0]!.child.kill("SIGKILL");
    const result = await coordinator.output;
    assert.equal(result.code, 0, result.stderr);
    const params = JSON.parse(await Deno.readTextFile(`${folder}/run/params.json`));
    assert.deepEqual(params.left.map((entry: { worker: number }) => entry.worker), [0]);
    // model.safetensors names the linear model's one tensor, from a survivor's layout.
    const bytes = await Deno.readFile(`${folder}/run/model.safetensors`);
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    assert.deepEqual(header.weight.shape, [3]);
  } finally {
    await Promise.all([coordinator, ...workers].map(reap));
    await Deno.remove(folder, { recursive: true });
  }
});

for (
  const [family, pipeline] of [
    ["allReduce", FAMILIES.allReduce],
    ["gossip on a ring", FAMILIES["gossip on a ring"]],
  ] as const
) {
  Deno.test(`${family}: an elastic TCP run's checkpoints record the survivors, and a resume after the loss goes on without the lost worker, as the run did`, async () => {
    const folder = await tempRunFolder();
    const plan = pipeline().elastic({ minWorkers: 3 }).network(network({ latency: LATENCY }))
      .compile();
    await Deno.writeTextFile(`${folder}/plan.json`, JSON.stringify(plan));
    const { coordinator, workers } = externalRun(
      `${folder}/plan.json`,
      `${folder}/run`,
      [],
      undefined,
      4,
      ["--checkpoint-every", "10", "--keep", "100"],
    );
    try {
      await waitForMetrics(`${folder}/run`, 120);
      workers[2]!.child.kill("SIGKILL");
      const result = await coordinator.output;
      assert.equal(result.code, 0, result.stderr);
      const read = async (name: string) =>
        JSON.parse(await Deno.readTextFile(`${folder}/run/${name}`));
      const summary = await read("summary.json");
      const params = await read("params.json");
      const rewound = summary.membership[0].step;
      assert.deepEqual(params.left, [{ worker: 2, steps: rewound }]);
      const steps = await listCheckpoints(`${folder}/run`);
      assert.deepEqual(steps, Array.from({ length: STEPS / 10 }, (_, i) => 10 * (i + 1)));
      for (const step of steps) {
        const checkpoint = await readCheckpoint(`${folder}/run`, plan, step);
        if (step < rewound) assert.deepEqual(checkpoint.members, [0, 1, 2, 3], `step ${step}`);
        if (step > rewound) {
          assert.deepEqual(checkpoint.members, [0, 1, 3], `step ${step}`);
          assert.deepEqual(
            checkpoint.lost.map(({ worker, steps }) => ({ worker, steps })),
            params.left,
          );
          assert.deepEqual(checkpoint.workers[2]!.buffers, [], "the lost worker has no state");
        }
      }
      // Resumed (workers in this process) from the first checkpoint after the loss: only the
      // survivors start, and they end where the interrupted run's survivors did, bit for bit.
      const from = steps.find((step) => step > rewound)!;
      assert.ok(from < STEPS, `the loss at step ${rewound} came too late`);
      const resumed = await resume(`${folder}/run`, { transport: "tcp", from, out: `${folder}/r` });
      assert.equal(resumed.summary.status, "completed");
      assert.deepEqual(resumed.params, params);
      assert.deepEqual(resumed.summary.membership, summary.membership);
    } finally {
      await Promise.all([coordinator, ...workers].map(reap));
      await Deno.remove(folder, { recursive: true });
    }
  });
}

/**
 * Runs `plan` (elastic, 4 workers, checkpoints at its end) over TCP, kills worker 2 mid-run,
 * restarts it with `--join` once the survivors went on, and returns the finished run's summary,
 * `params.json` and final checkpoint.
 */
/**
 * A run whose worker 2 is killed and restarted with `--join`, with a checkpoint at its end to read
 * the bases' buffers from; the same leave and return declared on the memory transport (`joinAt`)
 * must end with the same models bit for bit, so the memory join follows the same rule.
 */
async function rejoinedRun(
  pipeline: () => ReturnType<ReturnType<typeof leastSquaresPipeline>["base"]>,
) {
  const plan = pipeline().elastic({ minWorkers: 3 }).network(network({ latency: LATENCY }))
    .compile();
  const steps = plan.steps;
  const folder = await tempRunFolder();
  await Deno.writeTextFile(`${folder}/plan.json`, JSON.stringify(plan));
  const { coordinator, workers, rendezvous } = externalRun(
    `${folder}/plan.json`,
    `${folder}/run`,
    [],
    undefined,
    4,
    ["--checkpoint-every", String(steps)],
  );
  let rejoined: ReturnType<typeof startWith> | null = null;
  try {
    rejoined = await killAndRejoin(folder, workers, rendezvous);
    const result = await coordinator.output;
    assert.equal(result.code, 0, result.stderr);
    const joined = await rejoined.output;
    assert.equal(joined.code, 0, joined.stderr);
    const read = async (name: string) =>
      JSON.parse(await Deno.readTextFile(`${folder}/run/${name}`));
    const summary = await read("summary.json");
    assert.equal(summary.status, "completed");
    assert.deepEqual(
      summary.membership.map((change: Record<string, unknown>) => [change.reason, change.members]),
      [["lost", [0, 1, 3]], ["joined", [0, 1, 2, 3]]],
    );
    const params = await read("params.json");
    assert.equal(params.left, undefined, "nobody is missing at the end");
    const checkpoint = await readCheckpoint(`${folder}/run`, plan, steps);
    assert.deepEqual(checkpoint.members, [0, 1, 2, 3]);
    const buffer = (rank: number, name: string) =>
      checkpoint.workers[rank]!.buffers.find((entry) => entry.name === name)!.data;
    const [lost, back] = summary.membership;
    const replay = await run(
      pipeline().elastic({ minWorkers: 3 }).network(
        network({ failures: [{ worker: 2, leaveAt: lost.step + 1, joinAt: back.step + 1 }] }),
      ).compile(),
      { transport: "memory", out: `${folder}/replay` },
    );
    assert.deepEqual(replay.params.workers, params.workers, "the memory replay with joinAt");
    return { summary, params, buffer };
  } finally {
    await Promise.all(
      [coordinator, ...workers, ...(rejoined === null ? [] : [rejoined])].map(reap),
    );
    await Deno.remove(folder, { recursive: true });
  }
}

Deno.test("sgp: a killed worker restarted with --join takes half its donor's push-sum mass: Σ w stays the survivors' 3, as a memory replay with joinAt", async () => {
  const { params, buffer } = await rejoinedRun(() => leastSquaresPipeline(500).base(sgp(ring)));
  // On rings (4, then 3 survivors) every weight stays 1 until the join; the donor and the joiner
  // then hold half each, and push-sum over the 4-ring conserves the total.
  const weights = [0, 1, 2, 3].map((rank) => buffer(rank, "sgp.weight")[0]!);
  const total = weights.reduce((sum, w) => sum + w, 0);
  assert.ok(Math.abs(total - 3) < 1e-4, `Σ w = ${total} (${weights})`);
  // Each worker's reported model is its de-biased z = x / w.
  for (const rank of [0, 1, 2, 3]) {
    const x = buffer(rank, "sgp.x");
    const z = Array.from(x, (value) => Math.fround(value / weights[rank]!));
    assert.deepEqual(params.workers[rank], z, `worker ${rank}`);
  }
});

Deno.test("cada: a killed worker restarted with --join uploads into a cleared slot: the server's sum is the four workers' latest gradients, as a memory replay with joinAt", async () => {
  const { params, buffer } = await rejoinedRun(() =>
    leastSquaresPipeline(500).base(cada({ c: 0.5, maxDelay: 8 }))
  );
  // Every worker holds the server's iterate.
  for (const rank of [1, 2, 3]) assert.deepEqual(params.workers[rank], params.workers[0]);
  // The server's aggregate is the mean of each worker's own upload sum, the joiner's included.
  const gradient = buffer(0, "cada.gradient");
  const sums = [0, 1, 2, 3].map((rank) => buffer(rank, "cada.uploaded"));
  for (let t = 0; t < gradient.length; t++) {
    const mean = sums.reduce((sum, uploaded) => sum + uploaded[t]!, 0) / 4;
    assert.ok(Math.abs(gradient[t]! - mean) < 1e-9, `∇[${t}] = ${gradient[t]} vs ${mean}`);
  }
  assert.deepEqual([...buffer(0, "cada.over")], [1, 1, 1, 1]);
});

Deno.test("chocoGossip: a killed worker restarted with --join: every holder's public copy of a worker agrees with its own, as a memory replay with joinAt", async () => {
  const { buffer } = await rejoinedRun(() =>
    leastSquaresPipeline(500).base(chocoGossip(ring, { gamma: 0.5 }))
  );
  const d = 3;
  const slot = (rank: number, of: number) =>
    Array.from(buffer(rank, "chocoGossip.public").subarray(of * d, (of + 1) * d));
  for (let rank = 0; rank < 4; rank++) {
    for (const neighbour of [(rank + 1) % 4, (rank + 3) % 4]) {
      assert.deepEqual(slot(neighbour, rank), slot(rank, rank), `${neighbour}'s copy of ${rank}`);
    }
  }
  assert.deepEqual([...buffer(2, "chocoGossip.over")], [1, 1, 1, 1]);
});
