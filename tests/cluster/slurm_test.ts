/**
 * A whole run started by Slurm: `scripts/slurm_setup.sh` makes this host a one-node cluster,
 * then `srun -n 4 --overcommit deno run -A cli.ts worker --plan … --out DIR` trains, rank 0
 * hosting the coordinator, and the run equals `gossamer run` of the same plan bit for bit.
 * Root only (it installs packages and starts daemons), with apt-get or Slurm already installed;
 * elsewhere the tests are ignored and their names say why.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { ROOT, STACK_LINE } from "../_cli.ts";
import { freePort, spawnCollected, TEST_SECRET } from "../runtime/_processes.ts";
import { tempRunFolder } from "../runtime/_plans.ts";
import { assertSameRun, PLAN, runLocally } from "./_same_run.ts";

/** Whether a program is on the PATH. */
function installed(program: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${program}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Why this host cannot run the Slurm tests, or `null`. */
function slurmTestsBlocked(): string | null {
  if (Deno.build.os !== "linux") return `Slurm's packages are Linux's (this is ${Deno.build.os})`;
  if (Deno.uid() !== 0) {
    return `needs root to install and start Slurm (running as uid ${Deno.uid()})`;
  }
  if (!installed("apt-get") && !installed("srun")) return "needs apt-get to install Slurm";
  return null;
}

const BLOCKED = slurmTestsBlocked();
const ignored = BLOCKED === null ? "" : ` (ignored: ${BLOCKED})`;

/** Runs the setup script once for the tests of this file. */
let ready: Promise<void> | null = null;
function setUpSlurm(): Promise<void> {
  ready ??= (async () => {
    const script = fileURLToPath(new URL("scripts/slurm_setup.sh", ROOT));
    const setup = await new Deno.Command("bash", {
      args: [script],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const decoder = new TextDecoder();
    assert.ok(setup.success, `slurm_setup.sh failed: ${decoder.decode(setup.stderr)}`);
    assert.match(decoder.decode(setup.stdout), /^slurm ready: \S+ (idle|mix|alloc)$/m);
  })();
  return ready;
}

/**
 * `srun -n <tasks> --overcommit deno run -A cli.ts worker …args`. With `killOnBadExit`, Slurm
 * ends the other tasks when one fails, as a batch script would want.
 */
function srun(tasks: number, killOnBadExit: boolean, ...args: string[]) {
  return spawnCollected(
    "srun",
    [
      "-n",
      String(tasks),
      "--overcommit",
      "--time=10",
      `--kill-on-bad-exit=${killOnBadExit ? 1 : 0}`,
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      "cli.ts",
      "worker",
      ...args,
    ],
    // srun hands its whole environment to every task (--export=ALL).
    { GOSSAMER_SECRET: TEST_SECRET, GOSSAMER_PORT: String(freePort()) },
  ).output;
}

Deno.test({
  name: `srun -n 4 gossamer worker is a whole run, equal to gossamer run bit for bit${ignored}`,
  ignore: BLOCKED !== null,
  async fn() {
    await setUpSlurm();
    const parent = await tempRunFolder();
    try {
      const launched = join(parent, "srun");
      const result = await srun(4, true, "--plan", PLAN, "--out", launched);
      assert.equal(result.code, 0, result.stderr);
      for (let rank = 0; rank < 4; rank++) {
        assert.match(
          result.stderr,
          new RegExp(
            `^Launcher: slurm; rank ${rank} of 4, local rank ${rank} \\(SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID\\); rendezvous \\S+:\\d+ \\(first host of SLURM_STEP_NODELIST, GOSSAMER_PORT\\)$`,
            "m",
          ),
        );
      }
      assert.match(result.stderr, /^Rank 0 hosts the coordinator at 0\.0\.0\.0:\d+ /m);
      const table = /^gossip \+ slowMo\s+4\s+-\s+(\S+)/m.exec(result.stdout);
      assert.ok(table !== null, result.stdout);
      console.log(`srun -n 4: final loss ${table[1]}, run folder ${launched}`);
      await runLocally(join(parent, "local"));
      await assertSameRun(launched, join(parent, "local"));
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});

Deno.test({
  name: `srun with fewer tasks than the plan's workers stops every task with a message${ignored}`,
  ignore: BLOCKED !== null,
  async fn() {
    await setUpSlurm();
    // Each task must stop by itself: none is killed for another's failure.
    const result = await srun(3, false, "--plan", PLAN);
    assert.notEqual(result.code, 0);
    assert.doesNotMatch(result.stderr, STACK_LINE);
    const lines = result.stderr.split("\n").filter((line) =>
      line ===
        "The world size 3 (SLURM_NTASKS) differs from the plan's 4 workers: start 4 tasks (srun -n 4), or change the plan"
    );
    assert.equal(lines.length, 3, result.stderr);
  },
});

Deno.test({
  name:
    `srun -n 2 gossamer worker --local-workers 2 is a whole run of four workers with hierarchical all-reduces${ignored}`,
  ignore: BLOCKED !== null,
  async fn() {
    await setUpSlurm();
    const parent = await tempRunFolder();
    try {
      const launched = join(parent, "srun");
      const result = await srun(
        2,
        true,
        "--plan",
        PLAN,
        "--out",
        launched,
        "--local-workers",
        "2",
      );
      assert.equal(result.code, 0, result.stderr);
      for (const [rank, workers] of [[0, "0..1"], [1, "2..3"]]) {
        assert.match(result.stderr, new RegExp(`^Launcher: slurm; rank ${rank} of 2,`, "m"));
        assert.match(
          result.stderr,
          new RegExp(
            `^This process runs workers ${workers} of 4 as threads that share memory`,
            "m",
          ),
        );
      }
      const summary = JSON.parse(await Deno.readTextFile(join(launched, "summary.json")));
      assert.equal(summary.status, "completed");
      assert.equal(summary.allReduce, "hierarchical");
      // Gossip is exact; SlowMo's averages are summed in another order than gossamer run's
      // ring, so the two runs agree up to rounding.
      await runLocally(join(parent, "local"));
      const final = async (folder: string) =>
        JSON.parse(await Deno.readTextFile(join(folder, "summary.json"))).final.testLoss;
      const [hierarchical, flat] = [await final(launched), await final(join(parent, "local"))];
      assert.ok(Math.abs(hierarchical - flat) <= 1e-5 * Math.abs(flat), `${hierarchical} ${flat}`);
      console.log(
        `srun -n 2 --local-workers 2: final loss ${hierarchical} (gossamer run: ${flat})`,
      );
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});
