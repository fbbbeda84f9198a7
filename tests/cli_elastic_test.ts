/**
 * `gossamer plan` explains an elastic pipeline and its declared failures; `gossamer run` runs its
 * leaves and rejoins on the memory transport (with checkpoints, which `gossamer resume` continues
 * from) and refuses what it does not run yet (declared leaves over TCP) in one line and without a
 * stack trace.
 */

import assert from "node:assert/strict";
import { gossamer, ROOT, STACK_LINE } from "./_cli.ts";

/** An elastic pipeline module in a fresh folder; returns its path. */
async function elasticPipeline(
  failure = "{ worker: 2, leaveAt: 10, joinAt: 30 }",
  algorithms = ".base(gossip(ring))",
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_cli_elastic_" });
  const path = `${dir}/elastic.ts`;
  await Deno.writeTextFile(
    path,
    `import { gossip, leastSquares, linear, localSgd, network, onePeerExponential, overlapLocalSgd, ring, sgd, sgp, streamingDiloco, train } from "${
      new URL("mod.ts", ROOT).href
    }";
export default train(linear({ dim: 3 }))
  .data(leastSquares({ file: "${new URL("examples/data/least_squares_4.json", ROOT).href}" }))
  .workers(4)
  .optimizer(sgd({ lr: 0.05 }))
  ${algorithms}
  .steps(40)
  .elastic({ minWorkers: 3, maxWorkers: 6 })
  .network(network({ failures: [${failure}] }));
`,
  );
  return path;
}

Deno.test("plan explains an elastic pipeline, its base's reaction and its declared failures", async () => {
  const path = await elasticPipeline();
  try {
    const result = await gossamer("plan", path);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(
      result.stdout.includes(
        "Elastic: goes on while at least 3 of 4 workers live (up to 6 may join); a lost " +
          "worker's shard is dropped; a restarted worker rejoins at the next synchronisation point.",
      ),
      result.stdout,
    );
    assert.ok(result.stdout.includes("gossip: the ring topology is re-formed over the survivors"));
    assert.ok(
      result.stdout.includes(
        "Runs with --transport memory (either clock), its declared failures as scheduled; without checkpoints (workers that join again cannot be checkpointed yet).",
      ),
      result.stdout,
    );
    assert.ok(
      result.stdout.includes(
        "Over TCP: a worker that dies or is cut off leaves, the survivors redo the step in flight without it, and a restarted one joins again; checkpoints record the members, and a resumed run goes on without the workers lost before its checkpoint.",
      ),
      result.stdout,
    );
    assert.ok(
      result.stdout.includes(
        "Declared failure: worker 2 leaves before step 10, rejoins at step 30: 3 workers for 20 steps",
      ),
    );
    assert.ok(result.stdout.includes(".elastic({ minWorkers: 3, maxWorkers: 6 })"));
    assert.ok(result.stdout.includes('"reshard": "drop"'));
  } finally {
    await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  }
});

Deno.test("plan says that over TCP overlapLocalSgd and streamingDiloco go back to the step that started the collective in flight", async () => {
  const cases = [
    [
      ".base(overlapLocalSgd({ tau: 4 }))",
      "the survivors go back to the step that launched the overlapLocalSgd all-reduce still in flight and redo from there without it",
    ],
    [
      ".base(localSgd({ tau: 4 })).outer(streamingDiloco({ tau: 4, fragments: 1, overlap: 1 }))",
      "the survivors go back to the step that started the streamingDiloco sync still in flight and redo from there without it",
    ],
  ];
  for (const [algorithms, redo] of cases) {
    const path = await elasticPipeline("{ worker: 2, leaveAt: 10 }", algorithms);
    try {
      const result = await gossamer("plan", path);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(
        result.stdout.includes(`Over TCP: a worker that dies or is cut off leaves, ${redo},`),
        result.stdout,
      );
      assert.ok(!result.stdout.includes("not run yet"), result.stdout);
    } finally {
      await Deno.remove(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    }
  }
});

Deno.test("run refuses what it cannot run of an elastic plan with one clear line", async () => {
  const cases = [
    [
      await elasticPipeline(undefined, ".base(overlapLocalSgd({ tau: 4 }))"),
      "memory",
      "a worker cannot join again (joinAt) with overlapLocalSgd yet",
    ],
    [await elasticPipeline(), "tcp", "over TCP a worker leaves by dying or being cut off"],
  ];
  try {
    for (const [path, transport, message] of cases) {
      const dir = path!.slice(0, path!.lastIndexOf("/"));
      const result = await gossamer("run", path!, "--transport", transport!, "--out", `${dir}/run`);
      assert.equal(result.code, 1, result.stdout);
      assert.ok(result.stderr.includes(message!), result.stderr);
      assert.doesNotMatch(result.stderr, STACK_LINE);
    }
  } finally {
    for (const [path] of cases) {
      await Deno.remove(path!.slice(0, path!.lastIndexOf("/")), { recursive: true });
    }
  }
});

Deno.test("run completes an elastic plan on the memory transport and records the leave and the return", async () => {
  const path = await elasticPipeline();
  const dir = path.slice(0, path.lastIndexOf("/"));
  try {
    const result = await gossamer("run", path, "--transport", "memory", "--out", `${dir}/run`);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/run/summary.json`));
    assert.equal(summary.status, "completed");
    assert.deepEqual(summary.membership, [
      { step: 9, left: [2], members: [0, 1, 3], reason: "declared" },
      { step: 29, left: [], members: [0, 1, 2, 3], reason: "joined", joined: [2] },
    ]);
    const params = JSON.parse(await Deno.readTextFile(`${dir}/run/params.json`));
    assert.equal(params.left, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("run writes an elastic run's checkpoints, and resume from one after the leave ends as the uninterrupted run", async () => {
  const path = await elasticPipeline("{ worker: 2, leaveAt: 10 }");
  const dir = path.slice(0, path.lastIndexOf("/"));
  try {
    const ran = await gossamer(
      "run",
      path,
      "--transport",
      "memory",
      "--checkpoint-every",
      "10",
      "--out",
      `${dir}/run`,
    );
    assert.equal(ran.code, 0, ran.stderr);
    const resumed = await gossamer(
      "resume",
      `${dir}/run`,
      "--transport",
      "memory",
      "--from",
      "20",
      "--out",
      `${dir}/resumed`,
    );
    assert.equal(resumed.code, 0, resumed.stderr);
    const read = async (folder: string, name: string) =>
      JSON.parse(await Deno.readTextFile(`${dir}/${folder}/${name}`));
    const params = await read("resumed", "params.json");
    assert.deepEqual(params, await read("run", "params.json"));
    assert.deepEqual(params.left, [{ worker: 2, steps: 9 }]);
    assert.deepEqual(
      (await read("resumed", "summary.json")).membership,
      (await read("run", "summary.json")).membership,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
