/**
 * `gossamer slurm` for an elastic plan: the script starts every task through a bounded retry
 * loop (`srun --kill-on-bad-exit=0 --no-kill`), the loop itself run by bash against stand-in
 * workers (restarts up to the limit, never rank 0, none after a TERM), and, where a Slurm
 * controller answers (`sinfo`) with a node of two CPUs, a submitted job whose rank 1 worker is
 * killed mid-run: the task starts it again, it rejoins, and the run completes with both workers.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { gossamerIn, ROOT } from "../_cli.ts";
import { TASK_RETRY_LOOP } from "../../cli/slurm_script.ts";

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
