/**
 * `gossamer worker` under a launcher, on this host: places read from torchrun's variables over
 * IPv6 make the same run as `gossamer run`, rank 0 hosting the coordinator; missing,
 * malformed and contradictory variables end with one message naming them.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { gossamer, STACK_LINE } from "../_cli.ts";
import {
  freePort,
  reap,
  start,
  type Started,
  startWith,
  TEST_SECRET,
  waitForMetrics,
} from "../runtime/_processes.ts";
import { leastSquaresPipeline, tempRunFolder } from "../runtime/_plans.ts";
import { allReduce, gossip, ring, sgd } from "../../mod.ts";
import {
  assertHierarchicalRun,
  assertSameRun,
  PLAN,
  runLocally,
  writeHierarchicalPlan,
} from "./_same_run.ts";

/** Every variable a launcher might have left in the test's own environment, unset. */
const CLEAN: Record<string, string> = Object.fromEntries(
  [
    "GOSSAMER_RANK",
    "GOSSAMER_WORLD",
    "GOSSAMER_RENDEZVOUS",
    "GOSSAMER_PORT",
    "GOSSAMER_SECRET",
    "GOSSAMER_SECRET_FILE",
    "SLURM_PROCID",
    "SLURM_NTASKS",
    "SLURM_NPROCS",
    "SLURM_LOCALID",
    "SLURM_STEP_NODELIST",
    "SLURM_JOB_NODELIST",
    "JOB_COMPLETION_INDEX",
    "RANK",
    "WORLD_SIZE",
    "LOCAL_RANK",
    "MASTER_ADDR",
    "MASTER_PORT",
  ].map((name) => [name, ""]),
);

/** Whether this host has an IPv6 loopback to listen on. */
function hasIpv6Loopback(): boolean {
  try {
    Deno.listen({ hostname: "::1", port: 0 }).close();
    return true;
  } catch {
    return false;
  }
}

const IPV6 = hasIpv6Loopback();
const LOOPBACK = IPV6 ? "::1" : "127.0.0.1";

Deno.test(
  `four workers placed by torchrun's variables (MASTER_ADDR=${LOOPBACK}) equal gossamer run bit for bit${
    IPV6 ? "" : " (IPv4: this host has no IPv6 loopback)"
  }`,
  async () => {
    const parent = await tempRunFolder();
    const port = freePort();
    const workers: Started[] = [];
    try {
      for (let rank = 0; rank < 4; rank++) {
        const env = {
          ...CLEAN,
          GOSSAMER_SECRET: TEST_SECRET,
          RANK: String(rank),
          WORLD_SIZE: "4",
          LOCAL_RANK: String(rank),
          MASTER_ADDR: LOOPBACK,
          MASTER_PORT: String(port),
        };
        // Rank 2 binds every interface: it must advertise the loopback it reached rank 0 by.
        const host = rank === 2 ? ["--host", IPV6 ? "::" : "0.0.0.0"] : [];
        workers.push(
          startWith(env, "worker", "--plan", PLAN, "--out", join(parent, "launched"), ...host),
        );
      }
      const results = await Promise.all(workers.map((worker) => worker.output));
      for (const result of results) assert.equal(result.code, 0, result.stderr);
      const address = IPV6 ? `[::1]:${port}` : `127.0.0.1:${port}`;
      assert.match(
        results[0]!.stderr,
        new RegExp(
          `^Launcher: torchrun; rank 0 of 4, local rank 0 \\(RANK, WORLD_SIZE, LOCAL_RANK\\); rendezvous ${
            address.replace(/[[\]]/g, "\\$&")
          } \\(MASTER_ADDR, MASTER_PORT\\)$`,
          "m",
        ),
      );
      assert.match(
        results[0]!.stderr,
        new RegExp(
          `^Rank 0 hosts the coordinator at ${IPV6 ? "\\[::\\]" : "0\\.0\\.0\\.0"}:${port} `,
          "m",
        ),
      );
      assert.match(results[0]!.stdout, /gossip \+ slowMo\s+4 /, "rank 0 prints the run's table");
      for (const rank of [1, 2, 3]) {
        assert.match(results[rank]!.stdout, new RegExp(`^Worker ${rank} of 4 finished 50 steps`));
      }
      await runLocally(join(parent, "local"));
      await assertSameRun(join(parent, "launched"), join(parent, "local"));
    } finally {
      await Promise.all(workers.map(reap));
      await Deno.remove(parent, { recursive: true });
    }
  },
);

/** Runs `gossamer worker --plan PLAN …args` with the launcher's variables, expecting failure. */
async function refused(env: Record<string, string>, ...args: string[]) {
  const result = await startWith({ ...CLEAN, ...env }, "worker", "--plan", PLAN, ...args).output;
  assert.equal(result.code, 1, result.stderr);
  assert.doesNotMatch(result.stderr, STACK_LINE);
  return result.stderr;
}

const SLURM = { SLURM_PROCID: "1", SLURM_NTASKS: "4", SLURM_STEP_NODELIST: "node[1-4]" };

Deno.test("a worker under a launcher without a secret says how to give every rank one", async () => {
  const slurm = await refused(SLURM);
  assert.match(slurm, /^Launcher: slurm; rank 1 of 4 /m);
  assert.match(
    slurm,
    /^Worker 1 \(started by Slurm\) has no run secret\. Every rank, rank 0 and its coordinator included, needs the same one: export GOSSAMER_SECRET=\$\(openssl rand -hex 32\) before srun .*, or set GOSSAMER_SECRET_FILE \(or --secret-file\) to a file every rank can read$/m,
  );
  const kubernetes = await refused({
    JOB_COMPLETION_INDEX: "0",
    GOSSAMER_WORLD: "4",
    GOSSAMER_RENDEZVOUS: "train-0.train:29500",
  });
  assert.match(
    kubernetes,
    /Worker 0 \(started by a Kubernetes Indexed Job\) has no run secret.*secretKeyRef/,
  );
});

Deno.test("missing, malformed and contradictory launcher variables are named", async () => {
  const secret = { GOSSAMER_SECRET: TEST_SECRET };
  assert.match(await refused(secret), /^No rank for this worker: pass --rank, set GOSSAMER_RANK/m);
  assert.match(
    await refused({ ...secret, ...SLURM, SLURM_NTASKS: "3" }),
    /^The world size 3 \(SLURM_NTASKS\) differs from the plan's 4 workers: start 4 tasks \(srun -n 4\), or change the plan$/m,
  );
  assert.match(
    await refused({ ...secret, ...SLURM, SLURM_STEP_NODELIST: "node[4-1]" }),
    /^SLURM_STEP_NODELIST: The host list "node\[4-1\]" has the backward range 4-1$/m,
  );
  assert.match(
    await refused({ ...secret, RANK: "4", WORLD_SIZE: "4", MASTER_ADDR: "head" }),
    /^The rank 4 \(RANK\) is not below the world size 4 \(WORLD_SIZE\)$/m,
  );
  assert.match(
    await refused({ ...secret, GOSSAMER_RANK: "1", GOSSAMER_WORLD: "4" }),
    /^Worker 1 has its rank from GOSSAMER_RANK but no rendezvous address: pass --rendezvous or set GOSSAMER_RENDEZVOUS$/m,
  );
  assert.match(
    await refused({ ...secret, ...SLURM }, "--coordinator"),
    /^Only rank 0 can host the coordinator, and this worker is rank 1 \(SLURM_PROCID\)$/m,
  );
});

Deno.test("rank 0 whose rendezvous port is taken says so and how to choose another", async () => {
  const parent = await tempRunFolder();
  const taken = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  try {
    const message = await refused(
      {
        GOSSAMER_SECRET: TEST_SECRET,
        GOSSAMER_RANK: "0",
        GOSSAMER_WORLD: "4",
        GOSSAMER_RENDEZVOUS: "127.0.0.1",
        GOSSAMER_PORT: String(port),
      },
      "--out",
      join(parent, "run"),
    );
    assert.match(
      message,
      new RegExp(
        `^Cannot listen at 0\\.0\\.0\\.0:${port}: the port is already in use \\(choose another port with GOSSAMER_PORT, which every rank must see`,
        "m",
      ),
    );
    const summary = JSON.parse(await Deno.readTextFile(join(parent, "run", "summary.json")));
    assert.equal(summary.status, "failed");
  } finally {
    taken.close();
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("rank 0 with --no-coordinator joins a coordinator instead of hosting one", async () => {
  const port = freePort();
  const message = await refused(
    {
      GOSSAMER_SECRET: TEST_SECRET,
      GOSSAMER_RANK: "0",
      GOSSAMER_WORLD: "4",
      GOSSAMER_RENDEZVOUS: `127.0.0.1:${port}`,
    },
    "--no-coordinator",
    "--rendezvous-timeout",
    "300",
  );
  assert.doesNotMatch(message, /hosts the coordinator/);
  assert.match(
    message,
    new RegExp(
      `^Worker 0 cannot reach the coordinator at 127\\.0\\.0\\.1:${port} within 0\\.3 s`,
      "m",
    ),
  );
});

Deno.test("SIGTERM to rank 0, which hosts the coordinator, stops the whole run as gossamer run stops", async () => {
  const parent = await tempRunFolder();
  const plan = leastSquaresPipeline(200_000).base(gossip(ring)).evalEvery(10_000).compile();
  await Deno.writeTextFile(join(parent, "plan.json"), JSON.stringify(plan));
  const folder = join(parent, "run");
  const port = freePort();
  const workers = [0, 1, 2, 3].map((rank) =>
    startWith(
      {
        ...CLEAN,
        GOSSAMER_SECRET: TEST_SECRET,
        GOSSAMER_RANK: String(rank),
        GOSSAMER_WORLD: "4",
        GOSSAMER_RENDEZVOUS: `127.0.0.1:${port}`,
      },
      "worker",
      "--plan",
      join(parent, "plan.json"),
      "--out",
      folder,
    )
  );
  try {
    await waitForMetrics(folder, 4 * 50);
    workers[0]!.child.kill("SIGTERM");
    const [host, ...others] = await Promise.all(workers.map((worker) => worker.output));
    assert.equal(host!.code, 143, host!.stderr);
    assert.match(host!.stderr, /^Interrupted by a request to terminate \(SIGTERM\)$/m);
    const summary = JSON.parse(await Deno.readTextFile(join(folder, "summary.json")));
    assert.equal(summary.status, "stopped");
    assert.match(summary.error, /SIGTERM/);
    others.forEach((result, index) => {
      assert.equal(result.code, 1, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(
          `^Worker ${index + 1} stopped: Interrupted by a request to terminate \\(SIGTERM\\)$`,
          "m",
        ),
      );
    });
  } finally {
    await Promise.all(workers.map(reap));
    await Deno.remove(parent, { recursive: true });
  }
});

/** Two `gossamer worker --local-workers 2` processes on loopback, rank 0 hosting the run. */
function twoProcessesOfTwo(planFile: string, folder: string): Started[] {
  const port = freePort();
  return [0, 1].map((rank) =>
    startWith(
      {
        ...CLEAN,
        GOSSAMER_SECRET: TEST_SECRET,
        GOSSAMER_RANK: String(rank),
        GOSSAMER_WORLD: "2",
        GOSSAMER_RENDEZVOUS: `127.0.0.1:${port}`,
      },
      "worker",
      "--plan",
      planFile,
      "--out",
      folder,
      "--local-workers",
      "2",
    )
  );
}

Deno.test("two processes of two thread workers each: hierarchical all-reduces, only each process's first worker sends", async () => {
  const parent = await tempRunFolder();
  const planFile = await writeHierarchicalPlan(parent);
  const folder = join(parent, "run");
  const processes = twoProcessesOfTwo(planFile, folder);
  try {
    const [host, other] = await Promise.all(processes.map((started) => started.output));
    assert.equal(host!.code, 0, host!.stderr);
    assert.equal(other!.code, 0, other!.stderr);
    assert.match(host!.stderr, /^This process runs workers 0\.\.1 of 4 as threads/m);
    assert.match(other!.stderr, /^This process runs workers 2\.\.3 of 4 as threads/m);
    assert.match(other!.stdout, /^Workers 2\.\.3 of 4 finished 20 steps/m);
    await assertHierarchicalRun(folder);
    // The same plan with a flat ring: the sums differ only in their rounding.
    const flat = join(parent, "flat");
    const local = await start("run", planFile, "--out", flat, "--quiet").output;
    assert.equal(local.code, 0, local.stderr);
    const params = async (run: string) =>
      JSON.parse(await Deno.readTextFile(join(run, "params.json"))).average as number[];
    const [hierarchical, ring] = [await params(folder), await params(flat)];
    hierarchical.forEach((value, i) =>
      assert.ok(Math.abs(value - ring[i]!) <= 1e-5 * (1 + Math.abs(ring[i]!)), `${i}`)
    );
  } finally {
    await Promise.all(processes.map(reap));
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("a thread worker that fails in a process of several stops both processes, naming it", async () => {
  const parent = await tempRunFolder();
  // A learning rate that makes the loss diverge within a few dozen steps.
  const plan = leastSquaresPipeline(200).optimizer(sgd({ lr: 5 })).base(allReduce()).compile();
  const planFile = join(parent, "plan.json");
  await Deno.writeTextFile(planFile, JSON.stringify(plan));
  const folder = join(parent, "run");
  const processes = twoProcessesOfTwo(planFile, folder);
  try {
    const results = await Promise.all(processes.map((started) => started.output));
    for (const result of results) {
      assert.equal(result.code, 1, result.stderr);
      // Its own worker's divergence, or the coordinator's word of another's: either names it.
      assert.match(
        result.stderr,
        /^Worker [0-3](?: stopped: Worker [0-3])?: training loss is (NaN|Infinity) at step \d+/m,
      );
      assert.doesNotMatch(result.stderr, STACK_LINE);
    }
    const summary = JSON.parse(await Deno.readTextFile(join(folder, "summary.json")));
    assert.equal(summary.status, "failed");
    assert.match(summary.error, /^Worker [0-3]: training loss is/);
  } finally {
    await Promise.all(processes.map(reap));
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("--local-workers that do not divide the plan's workers are refused before anything starts", async () => {
  const result = await gossamer(
    "worker",
    "--plan",
    PLAN,
    "--local-workers",
    "3",
    "--rank",
    "0",
    "--world",
    "1",
  );
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /--local-workers 3 does not divide the plan's 4 workers: every process runs the same number of workers/,
  );
  assert.doesNotMatch(result.stderr, STACK_LINE);
});
