/**
 * `gossamer slurm`: the batch script's directives, the plan it embeds (the one `gossamer plan
 * --json` prints), the script run by bash against a stand-in `srun` (the files it makes, the
 * secret's mode, what each task is started with), refused input, and `--submit` against a
 * stand-in `sbatch`. No real Slurm is used: nothing here may submit a job.
 */

import assert from "node:assert/strict";
import { fileURLToPath as fromFileUrl } from "node:url";
import { gossamerIn, ROOT, STACK_LINE } from "./_cli.ts";
import { loadPlan } from "../runtime/load_plan.ts";

const CLI = fromFileUrl(new URL("cli.ts", ROOT));
const QUICKSTART = fromFileUrl(new URL("examples/quickstart.ts", ROOT));

/** Runs `body` in a fresh folder, removed afterwards. */
async function inTempFolder(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gossamer_slurm_" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes an executable shell script. */
async function writeExecutable(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text, { mode: 0o755 });
}

/** The `#SBATCH` directives of a script, in order. */
function directives(script: string): string[] {
  return [...script.matchAll(/^#SBATCH (.*)$/gm)].map((match) => match[1]!);
}

/** The plan embedded in a script: the quoted heredoc between the two markers. */
function embeddedPlan(script: string): unknown {
  const match = /<<'GOSSAMER_PLAN_JSON'\n([\s\S]*?)\nGOSSAMER_PLAN_JSON\n/.exec(script);
  assert.ok(match, "the script embeds the plan in a quoted heredoc");
  return JSON.parse(match[1]!);
}

/** The plan `gossamer plan --json` prints for `input`, run from `cwd`. */
async function printedPlan(cwd: string, input: string): Promise<unknown> {
  const result = await gossamerIn({ cwd }, "plan", input, "--json");
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout).plan;
}

/** Whether a path exists. */
async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test("slurm writes a script with the directives asked for and the plan as plan --json prints it", async () => {
  await inTempFolder(async (dir) => {
    const result = await gossamerIn(
      { cwd: dir },
      "slurm",
      QUICKSTART,
      "--nodes",
      "2",
      "--tasks-per-node",
      "4",
      "--partition",
      "gpu",
      "--time",
      "1-12:00:00",
      "--account",
      "proj42",
    );
    assert.equal(result.code, 0, result.stderr);
    // The default file is named after the pipeline, in the working folder.
    const file = `${dir}/quickstart.sbatch`;
    assert.match(result.stdout, /Wrote quickstart\.sbatch: 8 workers/);
    assert.match(result.stdout, /sbatch quickstart\.sbatch/);
    const script = await Deno.readTextFile(file);
    assert.ok(script.startsWith("#!/bin/bash\n"));
    assert.deepEqual(directives(script), [
      "--job-name=quickstart",
      "--nodes=2",
      "--ntasks-per-node=4",
      "--partition=gpu",
      "--time=1-12:00:00",
      "--account=proj42",
      "--output=quickstart-%j.out",
    ]);
    // sbatch reads directives only before the first command.
    const firstCommand = script.split("\n").findIndex((line) => /^[^#\s]/.test(line));
    const lastDirective = script.split("\n").findLastIndex((line) => line.startsWith("#SBATCH"));
    assert.ok(lastDirective < firstCommand, "every #SBATCH line comes before the first command");
    assert.deepEqual(embeddedPlan(script), await printedPlan(dir, QUICKSTART));
    const syntax = await new Deno.Command("bash", { args: ["-n", file], stderr: "piped" }).output();
    assert.ok(syntax.success, new TextDecoder().decode(syntax.stderr));

    // Without the optional directives, they are absent rather than empty.
    const plain = await gossamerIn(
      { cwd: dir },
      "slurm",
      QUICKSTART,
      "--nodes",
      "1",
      "--tasks-per-node",
      "8",
      "--job-name",
      "qs.one",
      "--out",
      "one.sh",
    );
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(directives(await Deno.readTextFile(`${dir}/one.sh`)), [
      "--job-name=qs.one",
      "--nodes=1",
      "--ntasks-per-node=8",
      "--output=qs.one-%j.out",
    ]);
  });
});

Deno.test("slurm --local-workers runs a task per node with its workers as threads on as many CPUs", async () => {
  await inTempFolder(async (dir) => {
    const result = await gossamerIn(
      { cwd: dir },
      "slurm",
      QUICKSTART,
      "--nodes",
      "2",
      "--tasks-per-node",
      "1",
      "--local-workers",
      "4",
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /Wrote quickstart\.sbatch: 8 workers, --nodes 2 × --tasks-per-node 1 × --local-workers 4;/,
    );
    const script = await Deno.readTextFile(`${dir}/quickstart.sbatch`);
    assert.deepEqual(directives(script), [
      "--job-name=quickstart",
      "--nodes=2",
      "--ntasks-per-node=1",
      "--cpus-per-task=4",
      "--output=quickstart-%j.out",
    ]);
    assert.match(script, /^# 8 gossamer workers: 2 node\(s\) x 1 task\(s\) x 4 thread workers\.$/m);
    assert.match(
      script,
      /^srun .* worker --plan "\$plan" --out "\$run" --host 0\.0\.0\.0 --local-workers 4$/m,
    );
    assert.match(script, /--tasks-per-node 1 --local-workers 4 --job-name quickstart$/m);
  });
});

Deno.test("the script, run as Slurm would, starts every task on the plan with a private per-job secret", async () => {
  await inTempFolder(async (dir) => {
    // A plan naming a data file relative to the folder the script is written in.
    const plan = structuredClone(
      await loadPlan(fromFileUrl(new URL("examples/least_squares.ts", ROOT))),
    ) as unknown as { data: { kind: string; file: string } };
    await Deno.mkdir(`${dir}/data`);
    await Deno.copyFile(plan.data.file, `${dir}/data/shards.json`);
    plan.data.file = "data/shards.json";
    await Deno.writeTextFile(`${dir}/ls.json`, JSON.stringify(plan));
    const generated = await gossamerIn(
      { cwd: dir },
      "slurm",
      "ls.json",
      "--nodes",
      "2",
      "--tasks-per-node",
      "2",
    );
    assert.equal(generated.code, 0, generated.stderr);

    // A stand-in srun records what it was asked to run and what the tasks would find.
    const bin = `${dir}/bin`;
    await Deno.mkdir(bin);
    await writeExecutable(
      `${bin}/srun`,
      `#!/bin/bash
printf '%s\\n' "$@" > "$SLURM_SUBMIT_DIR/srun.args"
stat -c %a "$GOSSAMER_SECRET_FILE" > "$SLURM_SUBMIT_DIR/secret.mode"
cp "$GOSSAMER_SECRET_FILE" "$SLURM_SUBMIT_DIR/secret.seen"
printf '%s' "\${GOSSAMER_RANK-unset} \${GOSSAMER_SECRET-unset}" > "$SLURM_SUBMIT_DIR/inherited"
while [ "$1" != --plan ]; do shift; done
cp "$2" "$SLURM_SUBMIT_DIR/seen.plan.json"
exit 3
`,
    );
    const job = await new Deno.Command("bash", {
      args: [`${dir}/ls.sbatch`],
      cwd: "/",
      env: {
        PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
        DENO: Deno.execPath(),
        SLURM_SUBMIT_DIR: dir,
        SLURM_JOB_ID: "4242",
        // Left over from a local test in the submitting shell: must not reach the tasks.
        GOSSAMER_RANK: "5",
        GOSSAMER_SECRET: "a-secret-from-the-submitting-shell",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    // srun's exit status is the job's.
    assert.equal(job.code, 3, decoder.decode(job.stderr));
    assert.match(decoder.decode(job.stdout), /job 4242, 4 workers, run folder runs\/ls-4242/);

    const args = (await Deno.readTextFile(`${dir}/srun.args`)).trimEnd().split("\n");
    assert.deepEqual(args, [
      "--kill-on-bad-exit=1",
      Deno.execPath(),
      "run",
      "-A",
      CLI,
      "worker",
      "--plan",
      `${dir}/ls-4242.plan.json`,
      "--out",
      "runs/ls-4242",
      "--host",
      "0.0.0.0",
    ]);
    assert.equal((await Deno.readTextFile(`${dir}/secret.mode`)).trim(), "600");
    assert.match(await Deno.readTextFile(`${dir}/secret.seen`), /^[0-9a-f]{64}$/);
    assert.equal(await Deno.readTextFile(`${dir}/inherited`), "unset unset");
    assert.ok(await exists(`${dir}/runs`), "runs/ is made for the run folder");
    // The per-job plan and secret are gone once the job ends.
    assert.equal(await exists(`${dir}/ls-4242.plan.json`), false);
    assert.equal(await exists(`${dir}/ls-4242.secret`), false);

    // The plan the tasks read is the one given, and its data file resolves from where it lies.
    assert.deepEqual(
      JSON.parse(await Deno.readTextFile(`${dir}/seen.plan.json`)),
      await printedPlan(dir, "ls.json"),
    );
    assert.deepEqual(await printedPlan(dir, "seen.plan.json"), await printedPlan(dir, "ls.json"));

    // A second job gets another secret.
    const first = await Deno.readTextFile(`${dir}/secret.seen`);
    const second = await new Deno.Command("bash", {
      args: [`${dir}/ls.sbatch`],
      env: {
        PATH: `${bin}:/usr/bin:/bin`,
        DENO: Deno.execPath(),
        SLURM_SUBMIT_DIR: dir,
        SLURM_JOB_ID: "4243",
      },
      stdout: "null",
      stderr: "null",
    }).output();
    assert.equal(second.code, 3);
    assert.notEqual(await Deno.readTextFile(`${dir}/secret.seen`), first);
  });
});

Deno.test("the script says what is missing when run outside sbatch or without Deno", async () => {
  await inTempFolder(async (dir) => {
    const generated = await gossamerIn(
      { cwd: dir },
      "slurm",
      QUICKSTART,
      "--nodes",
      "2",
      "--tasks-per-node",
      "4",
    );
    assert.equal(generated.code, 0, generated.stderr);
    const run = async (env: Record<string, string>) => {
      const output = await new Deno.Command("bash", {
        args: [`${dir}/quickstart.sbatch`],
        clearEnv: true,
        env: { PATH: "/usr/bin:/bin", ...env },
        stdout: "piped",
        stderr: "piped",
      }).output();
      return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
    };
    const outside = await run({});
    assert.notEqual(outside.code, 0);
    assert.match(outside.stderr, /SLURM_SUBMIT_DIR: submit this script with sbatch/);
    const noDeno = await run({
      SLURM_SUBMIT_DIR: dir,
      SLURM_JOB_ID: "7",
      DENO: `${dir}/no-such-deno`,
    });
    assert.equal(noDeno.code, 127);
    assert.match(noDeno.stderr, /no-such-deno is not on PATH here; submit with DENO=/);
    // Nothing was left behind.
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["quickstart.sbatch"]);
  });
});

Deno.test("slurm refuses a mismatched allocation and bad values, writing nothing", async (t) => {
  await inTempFolder(async (dir) => {
    const cases: [string, string[], RegExp][] = [
      [
        "tasks that are not the plan's workers",
        ["--nodes", "2", "--tasks-per-node", "3"],
        /quickstart\.ts has 8 workers but --nodes 2 × --tasks-per-node 3 start 6 tasks, one worker each: .*or pass --workers 6/,
      ],
      [
        "--workers that is not nodes × tasks",
        ["--nodes", "2", "--tasks-per-node", "3", "--workers", "8"],
        /--workers 8 does not match --nodes 2 × --tasks-per-node 3 = 6 tasks/,
      ],
      [
        "local workers that do not make the plan's workers",
        ["--nodes", "2", "--tasks-per-node", "1", "--local-workers", "3"],
        /quickstart\.ts has 8 workers but --nodes 2 × --tasks-per-node 1 × --local-workers 3 start 2 tasks, 3 workers each: choose nodes, tasks per node and local workers that multiply to 8, or pass --workers 6/,
      ],
      [
        "a time limit sbatch would refuse",
        ["--nodes", "2", "--tasks-per-node", "4", "--time", "2h"],
        /Invalid --time "2h": expected minutes, MM:SS, HH:MM:SS/,
      ],
      [
        "a job name that would smuggle in a line",
        ["--nodes", "2", "--tasks-per-node", "4", "--job-name", "x\n#SBATCH --nodes=99"],
        /Invalid --job-name "x\\n#SBATCH --nodes=99": expected letters, digits/,
      ],
      [
        "a partition with a space",
        ["--nodes", "2", "--tasks-per-node", "4", "--partition", "gpu a100"],
        /Invalid --partition "gpu a100"/,
      ],
      [
        "a folder that does not exist",
        ["--nodes", "2", "--tasks-per-node", "4", "--out", "no/such/folder/job.sbatch"],
        /Cannot write "no\/such\/folder\/job\.sbatch": its folder does not exist/,
      ],
    ];
    for (const [name, args, message] of cases) {
      await t.step(name, async () => {
        const result = await gossamerIn({ cwd: dir }, "slurm", QUICKSTART, ...args);
        assert.equal(result.code, 1, result.stdout);
        assert.match(result.stderr, message);
        assert.doesNotMatch(result.stderr, STACK_LINE);
        assert.deepEqual([...Deno.readDirSync(dir)], []);
      });
    }
    await t.step("a plan whose data has fewer shards than --workers", async () => {
      const leastSquares = fromFileUrl(new URL("examples/least_squares.ts", ROOT));
      const result = await gossamerIn(
        { cwd: dir },
        "slurm",
        leastSquares,
        "--nodes",
        "2",
        "--tasks-per-node",
        "4",
        "--workers",
        "8",
      );
      assert.equal(result.code, 1);
      assert.match(result.stderr, /with --workers 8/);
      assert.match(result.stderr, /has 4 shards but workers is 8/);
      assert.deepEqual([...Deno.readDirSync(dir)], []);
    });
    await t.step("a missing option is a usage error", async () => {
      const result = await gossamerIn({ cwd: dir }, "slurm", QUICKSTART, "--nodes", "2");
      assert.equal(result.code, 2);
      assert.match(result.stderr, /required option '--tasks-per-node <k>' not specified/);
    });
  });
});

Deno.test("slurm --workers runs the plan with as many workers as tasks", async () => {
  await inTempFolder(async (dir) => {
    const result = await gossamerIn(
      { cwd: dir },
      "slurm",
      QUICKSTART,
      "--nodes",
      "3",
      "--tasks-per-node",
      "2",
      "--workers",
      "6",
    );
    assert.equal(result.code, 0, result.stderr);
    const embedded = embeddedPlan(await Deno.readTextFile(`${dir}/quickstart.sbatch`));
    const printed = await printedPlan(dir, QUICKSTART) as Record<string, unknown>;
    assert.deepEqual(embedded, { ...printed, workers: 6 });
  });
});

Deno.test("slurm never replaces an existing script unless --force", async () => {
  await inTempFolder(async (dir) => {
    const edited = "#!/bin/bash\n# edited by hand\n";
    await Deno.writeTextFile(`${dir}/quickstart.sbatch`, edited);
    const args = ["slurm", QUICKSTART, "--nodes", "2", "--tasks-per-node", "4"];
    const refused = await gossamerIn({ cwd: dir }, ...args);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /Cannot write "quickstart\.sbatch": it already exists \(pass --force to replace it\)/,
    );
    assert.equal(await Deno.readTextFile(`${dir}/quickstart.sbatch`), edited);
    const forced = await gossamerIn({ cwd: dir }, ...args, "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(
      embeddedPlan(await Deno.readTextFile(`${dir}/quickstart.sbatch`)),
      await printedPlan(dir, QUICKSTART),
    );
    // No temporary file is left beside it.
    assert.deepEqual([...Deno.readDirSync(dir)].map((entry) => entry.name), ["quickstart.sbatch"]);
  });
});

Deno.test("slurm --submit submits the script with sbatch and prints the job id", async () => {
  await inTempFolder(async (dir) => {
    const bin = `${dir}/bin`;
    const work = `${dir}/work`;
    await Deno.mkdir(bin);
    await Deno.mkdir(work);
    // Only builtins: PATH holds nothing but this folder, so no real sbatch can be reached.
    await writeExecutable(
      `${bin}/sbatch`,
      `#!/bin/sh
printf '%s\\n' "$PWD" "$@" > "$PWD/sbatch.called"
printf '4242;cluster1\\n'
`,
    );
    const args = ["slurm", QUICKSTART, "--nodes", "2", "--tasks-per-node", "4", "--submit"];
    const result = await gossamerIn({ cwd: work, env: { PATH: bin } }, ...args);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Wrote quickstart\.sbatch/);
    assert.match(
      result.stdout,
      /Submitted batch job 4242: log quickstart-4242\.out, run folder runs\/quickstart-4242/,
    );
    assert.deepEqual(
      (await Deno.readTextFile(`${work}/sbatch.called`)).trimEnd().split("\n"),
      [work, "--parsable", "quickstart.sbatch"],
    );

    // sbatch refusing the job: its words, exit 1, the script kept.
    await writeExecutable(
      `${bin}/sbatch`,
      `#!/bin/sh
printf 'sbatch: error: invalid partition specified: nope\\n' >&2
exit 1
`,
    );
    const refused = await gossamerIn({ cwd: work, env: { PATH: bin } }, ...args, "--force");
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /sbatch quickstart\.sbatch failed \(exit code 1\)/);
    assert.match(refused.stderr, /invalid partition specified: nope/);
    assert.match(refused.stderr, /The script is written/);
    assert.doesNotMatch(refused.stderr, STACK_LINE);
    assert.ok(await exists(`${work}/quickstart.sbatch`));

    // No sbatch at all: a clear message, and nothing written.
    await Deno.remove(`${bin}/sbatch`);
    await Deno.remove(`${work}/quickstart.sbatch`);
    const missing = await gossamerIn({ cwd: work, env: { PATH: bin } }, ...args);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /Cannot submit: sbatch is not on PATH/);
    assert.equal(await exists(`${work}/quickstart.sbatch`), false);
  });
});
