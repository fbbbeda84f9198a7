import assert from "node:assert/strict";
import { gossamer, STACK_LINE } from "../_cli.ts";
import { externalRun, freePort, reap, start, TEST_SECRET, waitForMetrics } from "./_processes.ts";
import { runWorker, WorkerError } from "../../runtime/worker/worker_main.ts";
import { leastSquaresPipeline, tempRunFolder } from "./_plans.ts";
import { custom, gossip, mnist, ring, sgd } from "../../mod.ts";
import { allReduce, train } from "../../mod.ts";

/** Writes a plan into a temporary folder and returns the folder. */
async function planFolder(plan: unknown): Promise<string> {
  const folder = await tempRunFolder();
  await Deno.writeTextFile(`${folder}/plan.json`, JSON.stringify(plan));
  return folder;
}

Deno.test("a loss that becomes NaN or infinite stops the run and keeps what was written", async () => {
  const plan = leastSquaresPipeline(200).optimizer(sgd({ lr: 5 })).base(gossip(ring)).compile();
  const folder = await planFolder(plan);
  try {
    const result = await gossamer("run", `${folder}/plan.json`, "--out", `${folder}/run`);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Worker \d: training loss is (NaN|Infinity) at step \d+/);
    assert.doesNotMatch(result.stderr, STACK_LINE);
    const summary = JSON.parse(await Deno.readTextFile(`${folder}/run/summary.json`));
    assert.equal(summary.status, "failed");
    assert.match(summary.error, /training loss is/);
    const lines = (await Deno.readTextFile(`${folder}/run/metrics.jsonl`)).trim().split("\n");
    assert.ok(lines.length > 4, "the steps before the divergence are kept");
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("a worker whose model module fails names the worker and the cause", async () => {
  const module = new URL("../fixtures/throwing_model.ts", import.meta.url);
  const plan = train(custom({ module }))
    .data(mnist({ trainSize: 64, testSize: 32 }))
    .workers(2)
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .steps(5)
    .compile();
  const folder = await planFolder(plan);
  try {
    const result = await gossamer("run", `${folder}/plan.json`, "--out", `${folder}/run`);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Worker [01]/);
    assert.match(result.stderr, /the model builder exploded/);
    assert.doesNotMatch(result.stderr, STACK_LINE);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("a worker process that dies mid-run stops the run with its rank named", async () => {
  const plan = leastSquaresPipeline(100_000).base(gossip(ring)).compile();
  const folder = await planFolder(plan);
  const { coordinator, workers } = externalRun(`${folder}/plan.json`, `${folder}/run`);
  try {
    await waitForMetrics(`${folder}/run`, 40);
    workers[2]!.child.kill("SIGKILL");
    const result = await coordinator.output;
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Worker 2/);
    assert.doesNotMatch(result.stderr, STACK_LINE);
    // The surviving workers stop by themselves, each naming the cause the coordinator decided,
    // even the ring neighbours that saw worker 2's connection drop before the coordinator spoke.
    for (const rank of [0, 1, 3]) {
      const worker = await workers[rank]!.output;
      assert.notEqual(worker.code, 0);
      assert.match(
        worker.stderr,
        new RegExp(
          `^Worker ${rank} stopped: Worker 2 disconnected from the coordinator before finishing`,
          "m",
        ),
      );
    }
  } finally {
    await Promise.all([coordinator, ...workers].map(reap));
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("a worker that stops answering is detected by its peers' timeout", async () => {
  const plan = leastSquaresPipeline(100_000).base(gossip(ring)).compile();
  const folder = await planFolder(plan);
  const { coordinator, workers } = externalRun(`${folder}/plan.json`, `${folder}/run`, [
    "--peer-timeout",
    "1500",
  ]);
  try {
    await waitForMetrics(`${folder}/run`, 40);
    workers[1]!.child.kill("SIGSTOP");
    const result = await coordinator.output;
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Worker 1 did not answer within 1500 ms/);
  } finally {
    try {
      workers[1]!.child.kill("SIGKILL");
    } catch { /* gone */ }
    await Promise.all([coordinator, ...workers].map(reap));
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("a busy rendezvous port is reported with the address", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const folder = await tempRunFolder();
  try {
    const result = await gossamer(
      "run",
      "examples/least_squares.ts",
      "--rendezvous",
      `127.0.0.1:${port}`,
      "--out",
      `${folder}/run`,
    );
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      new RegExp(`Cannot listen at 127\\.0\\.0\\.1:${port}: the port is already in use`),
    );
  } finally {
    listener.close();
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("a worker that cannot reach its coordinator retries, then says where it looked", async () => {
  const port = freePort();
  const plan = leastSquaresPipeline(20).base(gossip(ring)).compile();
  const start = performance.now();
  await assert.rejects(
    runWorker({
      plan,
      rank: 0,
      world: 4,
      rendezvous: `127.0.0.1:${port}`,
      backend: "cpu",
      secret: TEST_SECRET,
      rendezvousTimeoutMs: 800,
    }),
    (error: unknown) => {
      assert.ok(error instanceof WorkerError);
      assert.match(
        error.message,
        new RegExp(
          `^Worker 0 cannot reach the coordinator at 127\\.0\\.0\\.1:${port} within 0\\.8 s: `,
        ),
      );
      return true;
    },
  );
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 700 && elapsed < 5000, `gave up after ${elapsed} ms`);
});

Deno.test("a worker without the run secret says where to find it", async () => {
  const result = await gossamer(
    "worker",
    "--plan",
    "examples/least_squares.ts",
    "--rank",
    "0",
    "--world",
    "4",
    "--rendezvous",
    `127.0.0.1:${freePort()}`,
  );
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /Worker 0 has no run secret: set GOSSAMER_SECRET, or GOSSAMER_SECRET_FILE/,
  );
  assert.doesNotMatch(result.stderr, STACK_LINE);
});

Deno.test("a worker started with another plan is refused, and the run fails naming it", async () => {
  const plan = leastSquaresPipeline(100_000).base(gossip(ring)).compile();
  const folder = await planFolder(plan);
  await Deno.writeTextFile(`${folder}/other.json`, JSON.stringify({ ...plan, seed: 12 }));
  const same = `${folder}/plan.json`;
  const { coordinator, workers } = externalRun(same, `${folder}/run`, [], [
    same,
    same,
    `${folder}/other.json`,
    same,
  ]);
  try {
    const result = await coordinator.output;
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /Worker 2 was started with a different plan than the coordinator \(plan hash [0-9a-f]{12}… against [0-9a-f]{12}…\): start every worker with the same plan/,
    );
    assert.doesNotMatch(result.stderr, STACK_LINE);
    const refused = await workers[2]!.output;
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Worker 2 was started with a different plan/);
  } finally {
    await Promise.all([coordinator, ...workers].map(reap));
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("a run folder that already holds a run is refused, and nothing in it is lost", async () => {
  const folder = await tempRunFolder();
  try {
    await Deno.writeTextFile(`${folder}/metrics.jsonl`, "precious\n");
    const result = await gossamer("run", "examples/least_squares.ts", "--out", folder);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /already holds a run/);
    assert.equal(await Deno.readTextFile(`${folder}/metrics.jsonl`), "precious\n");
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("command-line overrides are checked like the plan itself", async () => {
  const folder = await tempRunFolder();
  try {
    const workers = await gossamer(
      "run",
      "examples/least_squares.ts",
      "--workers",
      "3",
      "--out",
      `${folder}/a`,
    );
    assert.equal(workers.code, 1);
    assert.match(workers.stderr, /with the command-line overrides: 1 issue/);
    assert.match(
      workers.stderr,
      /data\.file: ".*least_squares_4\.json" has 4 shards but workers is 3/,
    );
    // A shorter run still evaluates (evalEvery is capped at steps).
    const short = await gossamer(
      "run",
      "examples/least_squares.ts",
      "--steps",
      "6",
      "--out",
      `${folder}/b`,
      "--quiet",
    );
    assert.equal(short.code, 0, short.stderr);
    const summary = JSON.parse(await Deno.readTextFile(`${folder}/b/summary.json`));
    assert.equal(summary.final.step, 5);
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("a plan whose model module is missing is refused before anything starts", async () => {
  const plan = train(custom({ module: "./no/such/model.ts" }))
    .data(mnist({ trainSize: 64, testSize: 32 }))
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .compile();
  const folder = await planFolder(plan);
  try {
    const result = await gossamer("run", `${folder}/plan.json`, "--out", `${folder}/run`);
    assert.equal(result.code, 1);
    // Named as resolved: relative to the plan file that holds it.
    assert.match(
      result.stderr,
      new RegExp(`model\\.module: model module "${folder}/no/such/model\\.ts" not found`),
    );
    await assert.rejects(Deno.stat(`${folder}/run`));
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("Ctrl-C stops a run cleanly: exit 130, summary written, workers gone", async () => {
  const plan = leastSquaresPipeline(100_000).base(gossip(ring)).compile();
  const folder = await planFolder(plan);
  const run = start(
    "run",
    `${folder}/plan.json`,
    "--out",
    `${folder}/run`,
    "--launch",
    "processes",
    "--quiet",
  );
  try {
    await waitForMetrics(`${folder}/run`, 40);
    const children = await childProcesses(run.child.pid);
    assert.equal(children.length, 4, "four worker processes");
    run.child.kill("SIGINT");
    const result = await run.output;
    assert.equal(result.code, 130);
    assert.match(result.stderr, /Interrupted by Ctrl-C \(SIGINT\)/);
    const summary = JSON.parse(await Deno.readTextFile(`${folder}/run/summary.json`));
    assert.equal(summary.error, "Interrupted by Ctrl-C (SIGINT)");
    // The coordinator stopped its worker processes before exiting.
    for (const pid of children) assert.ok(!(await isRunning(pid)), `worker process ${pid} is left`);
  } finally {
    await reap(run);
    await Deno.remove(folder, { recursive: true });
  }
});

/** The pids of a process's children (Linux). */
async function childProcesses(pid: number): Promise<number[]> {
  const output = await new Deno.Command("pgrep", { args: ["-P", String(pid)] }).output();
  return new TextDecoder().decode(output.stdout).trim().split("\n").filter(Boolean).map(Number);
}

/** Whether a process exists and is not a zombie (Linux). */
async function isRunning(pid: number): Promise<boolean> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}
