/**
 * `gossamer slurm` for an elastic plan: the script starts every task through a bounded retry
 * loop (`srun --kill-on-bad-exit=0 --no-kill`), the loop itself run by bash against stand-in
 * workers (restarts up to the limit, never rank 0, none after a TERM), and, where a Slurm
 * controller answers (`sinfo`) with a node of four CPUs, a submitted job whose rank 2 worker is
 * killed mid-run: the task starts it again, it rejoins, and the run completes with four workers.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { gossamerIn, ROOT } from "../_cli.ts";
import { TASK_RETRY_LOOP } from "../../cli/slurm_script.ts";
import { freePort } from "../runtime/_processes.ts";

const PIPELINE = fromFileUrl(new URL("tests/cluster/_elastic_least_squares.ts", ROOT));

/** Runs `body` in a fresh folder, removed afterwards. */
async function inTempFolder(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_slurm_elastic_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The script `gossamer slurm` writes in `dir` for `input` with `more` options. */
async function scriptFor(dir: string, input: string, ...more: string[]): Promise<string> {
  const result = await gossamerIn(
    { cwd: dir },
    "slurm",
    input,
    "--nodes",
    "1",
    "--tasks-per-node",
    "4",
    "--out",
    "job.sbatch",
    ...more,
  );
  assert.equal(result.code, 0, result.stderr);
  return await Deno.readTextFile(`${dir}/job.sbatch`);
}

/** The script's last line: the srun that starts the tasks. */
const srunLine = (script: string) => script.trimEnd().split("\n").at(-1)!;

Deno.test("for an elastic plan the script starts each task through the retry loop, --restarts times at most", async () => {
  await inTempFolder(async (dir) => {
    const script = await scriptFor(dir, PIPELINE, "--restarts", "5");
    assert.equal(
      srunLine(script),
      `srun --kill-on-bad-exit=0 --no-kill bash -c "$task_loop" gossamer-task "$deno" run -A "$cli" worker --plan "$plan" --out "$run" --host 0.0.0.0`,
    );
    assert.match(script, /^export GOSSAMER_RESTARTS="\$\{GOSSAMER_RESTARTS:-5\}"$/m);
    // The loop, quoted for the shell, as the module exports it.
    const quoted = `task_loop='${TASK_RETRY_LOOP.replaceAll("'", `'\\''`)}'`;
    assert.ok(script.includes(quoted), "the script holds the retry loop");
    assert.match(script, /--restarts 5/, "the header's command line");
    const defaults = await scriptFor(dir, PIPELINE, "--force");
    assert.match(defaults, /^export GOSSAMER_RESTARTS="\$\{GOSSAMER_RESTARTS:-3\}"$/m);
  });
});

Deno.test("a plan that is not elastic keeps srun --kill-on-bad-exit=1 and no retry loop", async () => {
  await inTempFolder(async (dir) => {
    const quickstart = fromFileUrl(new URL("examples/least_squares.ts", ROOT));
    const script = await scriptFor(dir, quickstart, "--restarts", "5");
    assert.equal(
      srunLine(script),
      `srun --kill-on-bad-exit=1 "$deno" run -A "$cli" worker --plan "$plan" --out "$run" --host 0.0.0.0`,
    );
    assert.doesNotMatch(script, /task_loop|GOSSAMER_RESTARTS|--no-kill/);
  });
});

/**
 * Runs the retry loop as a task of rank `rank` would, around a stand-in worker that fails
 * `failures` times (exit 7) and then succeeds, and returns the loop's exit code and how often the
 * worker started.
 */
async function loop(
  rank: string,
  restarts: string,
  failures: number,
): Promise<{ code: number; starts: number; stderr: string }> {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_task_loop_" });
  try {
    const worker = `n=$(cat "${dir}/starts" 2>/dev/null || echo 0); n=$((n + 1)); ` +
      `echo "$n" > "${dir}/starts"; [ "$n" -gt ${failures} ] || exit 7`;
    const output = await new Deno.Command("bash", {
      args: ["-c", TASK_RETRY_LOOP, "gossamer-task", "sh", "-c", worker],
      env: { SLURM_PROCID: rank, GOSSAMER_RESTARTS: restarts },
      stderr: "piped",
    }).output();
    return {
      code: output.code,
      starts: Number(await Deno.readTextFile(`${dir}/starts`)),
      stderr: new TextDecoder().decode(output.stderr),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("the retry loop starts a failed worker again up to GOSSAMER_RESTARTS times, never on rank 0", async () => {
  // Two failures, three restarts allowed: the third start succeeds.
  const recovered = await loop("2", "3", 2);
  assert.deepEqual([recovered.code, recovered.starts], [0, 3]);
  assert.match(recovered.stderr, /task 2: worker exited with 7; restart 2 of 3, to rejoin the run/);
  // Five failures, three restarts: four starts, then the worker's own exit code.
  assert.deepEqual(
    await loop("1", "3", 5).then(({ code, starts }) => [code, starts]),
    [7, 4],
  );
  // Rank 0 hosts the coordinator: no restart.
  assert.deepEqual(await loop("0", "3", 1).then(({ code, starts }) => [code, starts]), [7, 1]);
  // No restarts asked for.
  assert.deepEqual(await loop("3", "0", 1).then(({ code, starts }) => [code, starts]), [7, 1]);
});

Deno.test("the retry loop stops on TERM (scancel, the time limit) instead of starting the worker again", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_task_loop_" });
  try {
    // The worker writes its pid, then waits; the TERM goes to the loop and to the worker, as
    // Slurm signals every process of a step.
    const worker = `echo "$$" >> "${dir}/pids"; exec sleep 60`;
    const child = new Deno.Command("bash", {
      args: ["-c", TASK_RETRY_LOOP, "gossamer-task", "sh", "-c", worker],
      env: { SLURM_PROCID: "1", GOSSAMER_RESTARTS: "3" },
      stderr: "piped",
    }).spawn();
    let pids = "";
    while (pids === "") {
      pids = await Deno.readTextFile(`${dir}/pids`).catch(() => "");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    child.kill("SIGTERM");
    Deno.kill(Number(pids.trim()), "SIGTERM");
    const output = await child.output();
    assert.equal(output.code, 143);
    assert.equal((await Deno.readTextFile(`${dir}/pids`)).trim().split("\n").length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Why a job cannot be submitted here, or `null` when it can (as `sbatch_script_test.ts`). */
function unavailable(): string | null {
  let cpus: number;
  try {
    const sinfo = new Deno.Command("sinfo", { args: ["-h", "-o", "%c"], stderr: "null" })
      .outputSync();
    if (!sinfo.success) return "no Slurm controller answers";
    cpus = Math.max(...new TextDecoder().decode(sinfo.stdout).trim().split(/\s+/).map(Number));
  } catch {
    return "no Slurm on PATH";
  }
  // Four tasks: with two, the lone survivor of a loss cannot form a TCP mesh of one (a runtime
  // limit), and sbatch refuses more tasks on a node than it has CPUs, even with --overcommit.
  return cpus >= 4 ? null : "no Slurm node has four CPUs";
}

const reason = unavailable();

/** The pid of the deno worker of rank `rank` whose arguments name `folder`, once it runs. */
async function workerPid(folder: string, rank: string): Promise<number> {
  for (let waited = 0; waited < 90_000; waited += 50) {
    for (const entry of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      try {
        const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
        if (!/deno$/.test(argv[0]!) || !argv.includes("worker")) continue;
        if (!argv.some((arg) => arg.startsWith(folder))) continue;
        const environ = Deno.readTextFileSync(`/proc/${entry.name}/environ`).split("\0");
        if (environ.includes(`SLURM_PROCID=${rank}`)) return Number(entry.name);
      } catch { /* gone, or not ours to read */ }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no worker of rank ${rank} for ${folder} after 90 s`);
}

/** Waits until the run folder's metrics have `lines` lines (the run is under way). */
async function waitForLines(folder: string, lines: number): Promise<void> {
  for (let waited = 0; waited < 90_000; waited += 50) {
    const text = await Deno.readTextFile(`${folder}/metrics.jsonl`).catch(() => "");
    if (text.split("\n").length > lines) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${folder}/metrics.jsonl has no ${lines} lines after 90 s`);
}

Deno.test({
  name:
    `sbatch of an elastic plan: rank 2's worker killed mid-run is started again by its task, rejoins, and the run completes${
      reason === null ? "" : ` (ignored: ${reason})`
    }`,
  ignore: reason !== null,
  fn: async () => {
    await inTempFolder(async (dir) => {
      // The elastic fixture's four workers, a task each, on one node.
      await Deno.mkdir(`${dir}/examples/data`, { recursive: true });
      await Deno.copyFile(
        new URL("examples/data/least_squares_4.json", ROOT),
        `${dir}/examples/data/least_squares_4.json`,
      );
      const printed = await gossamerIn({ cwd: dir }, "plan", PIPELINE, "--json");
      assert.equal(printed.code, 0, printed.stderr);
      const plan = JSON.parse(printed.stdout).plan;
      plan.data = { ...plan.data, file: "examples/data/least_squares_4.json" };
      await Deno.writeTextFile(`${dir}/el4.json`, JSON.stringify(plan));
      const generated = await gossamerIn(
        { cwd: dir },
        "slurm",
        "el4.json",
        "--nodes",
        "1",
        "--tasks-per-node",
        "4",
        "--time",
        "5",
      );
      assert.equal(generated.code, 0, generated.stderr);

      const job = new Deno.Command("sbatch", {
        args: ["--wait", "--parsable", "el4.sbatch"],
        cwd: dir,
        env: { DENO: Deno.execPath(), GOSSAMER_PORT: String(freePort()) },
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(240_000),
      }).output();
      const pid = await workerPid(dir, "2");
      const runs = () => [...Deno.readDirSync(`${dir}/runs`)].map((entry) => entry.name);
      while (runs().length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      const runFolder = `${dir}/runs/${runs()[0]}`;
      await waitForLines(runFolder, 60);
      Deno.kill(pid, "SIGKILL");

      const done = await job;
      const decoder = new TextDecoder();
      const jobId = decoder.decode(done.stdout).trim().split(";")[0];
      const log = await Deno.readTextFile(`${dir}/el4-${jobId}.out`).catch(() => "(no log)");
      assert.equal(done.code, 0, `${decoder.decode(done.stderr)}\n${log}`);
      assert.match(log, /task 2: worker exited with 137; restart 1 of 3, to rejoin the run/);
      const summary = JSON.parse(await Deno.readTextFile(`${runFolder}/summary.json`));
      assert.equal(summary.status, "completed");
      assert.deepEqual(
        // deno-lint-ignore no-explicit-any
        summary.membership.map((change: any) => [
          change.reason,
          change.left,
          change.members,
          change.joined ?? [],
        ]),
        [["lost", [2], [0, 1, 3], []], ["joined", [], [0, 1, 2, 3], [2]]],
      );
      const params = JSON.parse(await Deno.readTextFile(`${runFolder}/params.json`));
      assert.equal(params.left, undefined, "nobody is missing at the end");
      // All-reduce SGD keeps every model equal: the joiner's too.
      for (const rank of [1, 2, 3]) assert.deepEqual(params.workers[rank], params.workers[0]);
    });
  },
});
