/**
 * The Slurm batch script `gossamer slurm` writes: `#SBATCH` directives for the allocation, the
 * plan embedded in the script (one file to keep, copy or resubmit), a fresh secret per job, and
 * one `gossamer worker` per task through `srun`. Each worker reads its rank, the world size and
 * the rendezvous host from Slurm's environment, so the script passes none of them. With several
 * workers per task (`--local-workers`), each task runs them as threads on as many CPUs
 * (`--cpus-per-task`), and the all-reduces are hierarchical.
 *
 * @module
 */

/** Everything the script needs; every value already checked (see {@linkcode checkSlurmValue}). */
export interface SlurmScriptOptions {
  /** The job's name: `#SBATCH --job-name`, and the stem of its files and run folders. */
  readonly jobName: string;
  readonly nodes: number;
  readonly tasksPerNode: number;
  /** Workers each task runs as threads (default 1). */
  readonly localWorkers?: number;
  readonly partition?: string;
  /** Time limit, as sbatch takes it. */
  readonly time?: string;
  readonly account?: string;
  /** The plan's JSON text, as `gossamer plan --json` prints it. */
  readonly planJson: string;
  /** The `cli.ts` the workers run: a path on the cluster's shared file system, or a URL. */
  readonly cli: string;
  /** The command line that generated the script, recorded in its header. */
  readonly generatedBy: string;
  /** The script's own file, for the submission hint in its header. */
  readonly scriptFile: string;
  /**
   * For an elastic plan: how often each task starts its worker again when it fails (it rejoins
   * the run in progress). Absent for other plans, whose script is unchanged.
   */
  readonly elastic?: { readonly restarts: number };
}

/**
 * Each task's command for an elastic plan, run by `bash -c` with the worker's words as its
 * arguments: the worker starts again up to `$GOSSAMER_RESTARTS` times when it fails, so it
 * rejoins the run, except on rank 0 (the coordinator is gone with it, so the run is over) and
 * after a TERM or INT (scancel, the time limit: the job is stopping).
 */
export const TASK_RETRY_LOOP = [
  "trap 'exit 143' TERM",
  "trap 'exit 130' INT",
  "restarts=0",
  'until "$@"; do',
  "  code=$?",
  '  if [ "$SLURM_PROCID" = 0 ] || [ "$restarts" -ge "$GOSSAMER_RESTARTS" ]; then exit "$code"; fi',
  "  restarts=$((restarts + 1))",
  '  echo "gossamer: task $SLURM_PROCID: worker exited with $code; restart $restarts of $GOSSAMER_RESTARTS, to rejoin the run" >&2',
  "done",
].join("\n");

/**
 * Quotes a word for a POSIX shell: single quotes, with each `'` written as `'\''`.
 *
 * @param word Any text.
 * @returns The text as one shell word.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shellQuote } from "./slurm_script.ts";
 * assert.equal(shellQuote("it's"), `'it'\\''s'`);
 * ```
 */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** What each `#SBATCH` value may hold, and how a bad one is explained. */
const SLURM_VALUES = {
  // The job name also names files (`<name>.sbatch`, `runs/<name>-<job id>`), so no slashes.
  jobName: {
    pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/,
    expected: "letters, digits, '_', '.' and '-', not starting with '.' or '-'",
  },
  partition: {
    pattern: /^[A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*$/,
    expected: "a partition name, or several separated by commas",
  },
  account: {
    pattern: /^[A-Za-z0-9_.-]+$/,
    expected: "letters, digits, '_', '.' and '-'",
  },
  // sbatch's forms: minutes, minutes:seconds, hours:minutes:seconds, days-hours,
  // days-hours:minutes, days-hours:minutes:seconds; or no limit.
  time: {
    pattern: /^(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2}|UNLIMITED|INFINITE)$/,
    expected: "minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS",
  },
} as const;

/**
 * Checks a value bound for an `#SBATCH` line before anything is written: a typo found by sbatch
 * only at submission, or a newline or quote that would smuggle other lines into the script, is
 * refused here with the rule it breaks.
 *
 * @param field Which value.
 * @param option The option it came from, for the message.
 * @param value The value.
 * @returns An error message, or `null` when the value is fine.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSlurmValue } from "./slurm_script.ts";
 * assert.equal(checkSlurmValue("time", "--time", "1-12:00:00"), null);
 * assert.match(checkSlurmValue("time", "--time", "2h") ?? "", /Invalid --time "2h"/);
 * ```
 */
export function checkSlurmValue(
  field: keyof typeof SLURM_VALUES,
  option: string,
  value: string,
): string | null {
  const rule = SLURM_VALUES[field];
  return rule.pattern.test(value)
    ? null
    : `Invalid ${option} ${JSON.stringify(value)}: expected ${rule.expected}`;
}

/** Text for a comment line: a control character (a newline above all) would end the comment. */
function oneLine(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, "?");
}

/** Ends the embedded plan. A line of JSON is never a bare word, so no plan line can equal it. */
const PLAN_END = "GOSSAMER_PLAN_JSON";

/**
 * Renders the batch script.
 *
 * The plan, the secret and the run folder live in the submission folder (`$SLURM_SUBMIT_DIR`,
 * which every node sees on a cluster's shared file system): the plan's file references are
 * relative to it, as they were to the folder `gossamer slurm` ran in. The plan and the secret
 * are per job (`<name>-<job id>.plan.json`, `<name>-<job id>.secret`), so jobs of one script can
 * run side by side, and are removed when the job ends; the run folder keeps a copy of the plan.
 *
 * @param options The job.
 * @returns The script's text.
 */
export function slurmScript(options: SlurmScriptOptions): string {
  const local = options.localWorkers ?? 1;
  const directives = [
    `--job-name=${options.jobName}`,
    `--nodes=${options.nodes}`,
    `--ntasks-per-node=${options.tasksPerNode}`,
    ...(local === 1 ? [] : [`--cpus-per-task=${local}`]),
    ...(options.partition === undefined ? [] : [`--partition=${options.partition}`]),
    ...(options.time === undefined ? [] : [`--time=${options.time}`]),
    ...(options.account === undefined ? [] : [`--account=${options.account}`]),
    `--output=${options.jobName}-%j.out`,
  ];
  const workers = options.nodes * options.tasksPerNode * local;
  const worker = `"$deno" run -A "$cli" worker --plan "$plan" --out "$run" --host 0.0.0.0${
    local === 1 ? "" : ` --local-workers ${local}`
  }`;
  const launch = options.elastic === undefined
    ? `# Rank 0 hosts the coordinator and writes the run folder; the others find it through Slurm's
# environment. --host 0.0.0.0 lets workers on other nodes reach each one.
srun --kill-on-bad-exit=1 ${worker}`
    : `# Rank 0 hosts the coordinator and writes the run folder; the others find it through Slurm's
# environment. --host 0.0.0.0 lets workers on other nodes reach each one.
# An elastic plan: a task whose worker fails starts it again (at most GOSSAMER_RESTARTS times)
# and it rejoins the run in progress; the others go on meanwhile (--kill-on-bad-exit=0), and a
# lost node does not end the job (--no-kill). Rank 0's failure ends the run.
export GOSSAMER_RESTARTS="\${GOSSAMER_RESTARTS:-${options.elastic.restarts}}"
task_loop=${shellQuote(TASK_RETRY_LOOP)}
srun --kill-on-bad-exit=0 --no-kill bash -c "$task_loop" gossamer-task ${worker}`;
  return `#!/bin/bash
# ${oneLine(options.generatedBy)}
# ${workers} gossamer workers: ${options.nodes} node(s) x ${options.tasksPerNode} task(s)${
    local === 1 ? "" : ` x ${local} thread workers`
  }.
# Submit it from the folder it was written in (the plan's files and runs/ are relative to it):
#   sbatch ${oneLine(options.scriptFile)}
# Set DENO (default: deno on PATH) or GOSSAMER_CLI (default: below) in the environment sbatch
# passes on to use another Deno or gossamer. Run \`deno cache\` on cli.ts where the nodes share
# DENO_DIR first when the nodes cannot download packages.
${directives.map((directive) => `#SBATCH ${directive}`).join("\n")}

set -euo pipefail
: "\${SLURM_SUBMIT_DIR:?submit this script with sbatch}"
cd "$SLURM_SUBMIT_DIR"

name=${shellQuote(options.jobName)}
default_cli=${shellQuote(options.cli)}
deno="\${DENO:-deno}"
cli="\${GOSSAMER_CLI:-$default_cli}"
run="runs/$name-$SLURM_JOB_ID"
plan="$SLURM_SUBMIT_DIR/$name-$SLURM_JOB_ID.plan.json"
secret="$SLURM_SUBMIT_DIR/$name-$SLURM_JOB_ID.secret"

if ! command -v "$deno" >/dev/null 2>&1; then
  echo "gossamer: $deno is not on PATH here; submit with DENO=/path/to/deno sbatch ..." >&2
  exit 127
fi

cleanup() { rm -f "$plan" "$secret"; }
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

cat > "$plan" <<'${PLAN_END}'
${options.planJson}
${PLAN_END}

# The run's secret: fresh for every job, readable by its owner only; every worker reads it.
(umask 077 && head -c 32 /dev/urandom | od -An -vtx1 | tr -d ' \\n' > "$secret")
export GOSSAMER_SECRET_FILE="$secret"
# sbatch passes the submitting shell's environment on: a rank, world or secret set there for a
# local test would override Slurm's and this job's.
unset GOSSAMER_RANK GOSSAMER_WORLD GOSSAMER_RENDEZVOUS GOSSAMER_SECRET

mkdir -p runs
echo "gossamer: job $SLURM_JOB_ID, ${workers} workers, run folder $run"
${launch}
`;
}
