/**
 * The script `gossamer slurm` writes, submitted to a real Slurm: where a controller answers
 * (`sinfo`) with a node of at least two CPUs, and `gossamer worker` reads its place from Slurm,
 * `sbatch --wait` on the script is a whole run, equal to `gossamer run` of the same plan. Nothing
 * here starts or configures Slurm; without one the test is ignored.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { gossamer, gossamerIn, ROOT } from "../_cli.ts";
import { assertSameRun } from "./_same_run.ts";

/** Why the test cannot run here, or `null` when it can. */
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
  if (!(cpus >= 2)) return "no Slurm node has two CPUs";
  const help = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", fromFileUrl(new URL("cli.ts", ROOT)), "worker", "--help"],
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  return new TextDecoder().decode(help.stdout).includes("SLURM_PROCID")
    ? null
    : "gossamer worker does not read Slurm's variables";
}

const reason = unavailable();

/** A port nobody listens on now, so this run cannot meet another on the default one. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

Deno.test({
  name: `sbatch on the generated script is a whole run, equal to gossamer run${
    reason === null ? "" : ` (ignored: ${reason})`
  }`,
  ignore: reason !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "gossamer_sbatch_" });
    try {
      // Two workers, each with one shard of the least-squares example's data, named relative
      // to the submission folder.
      const shards = JSON.parse(
        await Deno.readTextFile(new URL("examples/data/least_squares_4.json", ROOT)),
      );
      await Deno.writeTextFile(
        `${dir}/shards.json`,
        JSON.stringify({ ...shards, shards: shards.shards.slice(0, 2) }),
      );
      const printed = await gossamer("plan", "examples/least_squares.ts", "--json");
      const plan = { ...JSON.parse(printed.stdout).plan, workers: 2 };
      plan.data = { ...plan.data, file: "shards.json" };
      await Deno.writeTextFile(`${dir}/ls2.json`, JSON.stringify(plan));

      const generated = await gossamerIn(
        { cwd: dir },
        "slurm",
        "ls2.json",
        "--nodes",
        "1",
        "--tasks-per-node",
        "2",
        "--time",
        "5",
      );
      assert.equal(generated.code, 0, generated.stderr);
      const job = await new Deno.Command("sbatch", {
        args: ["--wait", "--parsable", "ls2.sbatch"],
        cwd: dir,
        env: { DENO: Deno.execPath(), GOSSAMER_PORT: String(freePort()) },
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(180_000),
      }).output();
      const decoder = new TextDecoder();
      const jobId = decoder.decode(job.stdout).trim().split(";")[0];
      const log = await Deno.readTextFile(`${dir}/ls2-${jobId}.out`).catch(() => "(no log)");
      assert.equal(job.code, 0, `${decoder.decode(job.stderr)}\n${log}`);
      assert.match(log, /Launcher: slurm; rank 0 of 2/);
      assert.match(log, /Launcher: slurm; rank 1 of 2/);

      const runFolder = `${dir}/runs/ls2-${jobId}`;
      const summary = JSON.parse(await Deno.readTextFile(`${runFolder}/summary.json`));
      assert.equal(summary.status, "completed");
      assert.equal(summary.workers, 2);
      // The job's plan and secret are gone; what is left is the script, its inputs, its log
      // and the run.
      assert.deepEqual(
        [...Deno.readDirSync(dir)].map((entry) => entry.name).sort(),
        [`ls2-${jobId}.out`, "ls2.json", "ls2.sbatch", "runs", "shards.json"],
      );

      const reference = await gossamerIn(
        { cwd: dir },
        "run",
        "ls2.json",
        "--out",
        `${dir}/reference`,
        "--quiet",
      );
      assert.equal(reference.code, 0, reference.stderr);
      // The same run, bit for bit: parameters, and every metrics line but its timings.
      await assertSameRun(runFolder, `${dir}/reference`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
