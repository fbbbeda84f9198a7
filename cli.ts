/**
 * The `gossamer` command line: `plan`, `topology`, `run`, `worker`, `demo`, `experiment`,
 * `experiments`, `compare`, `serve`, `bench`, `examples`, and `slurm` and `k8s`, which write
 * what runs a plan's workers on a cluster.
 *
 * Exit codes: 0 success; 1 invalid input (an invalid plan, a missing file, a bad topology) or a
 * failed run; 2 a usage error (unknown command or option, bad option value); 130, 143 or 129 a
 * run stopped by SIGINT (Ctrl-C), SIGTERM or SIGHUP. Errors are printed as messages, never as
 * stack traces; set `GOSSAMER_DEBUG=1` to see the stack of an internal error.
 *
 * @module
 */

import { Command, InvalidArgumentError, Option } from "./deps/commander.ts";
import config from "./deno.json" with { type: "json" };
import { TFJS_VERSION } from "./deps/mod.ts";
import { PlanError } from "./dsl/validate.ts";
import { TopologyFileError } from "./topologies/mod.ts";
import { PlanLoadError } from "./runtime/load_plan.ts";
import { LeastSquaresFileError } from "./runtime/data/least_squares_file.ts";
import { CliInputError, CommandFailedError } from "./cli/errors.ts";
import { interruptedBy, signalExitCode } from "./cli/interrupt.ts";
import { benchAllReduceCommand } from "./cli/bench_command.ts";
import { compareCommand } from "./cli/compare_command.ts";
import { demoCommand } from "./cli/demo_command.ts";
import { examplesCommand } from "./cli/examples_command.ts";
import { experimentCommand, experimentsCommand } from "./cli/experiment_command.ts";
import { k8sCommand } from "./cli/k8s_command.ts";
import { planCommand } from "./cli/plan_command.ts";
import { resumeCommand, runCommand } from "./cli/run_command.ts";
import { workerCommand } from "./cli/worker_command.ts";
import { serveCommand } from "./cli/serve_command.ts";
import { slurmCommand } from "./cli/slurm_command.ts";
import { RunError } from "./runtime/run_types.ts";
import { resumeHint } from "./cli/command_name.ts";
import { TOPOLOGY_NAMES, topologyCommand } from "./cli/topology_command.ts";
import { messageOf } from "./runtime/errors.ts";
import { isTimeout, TIMEOUT_RANGE } from "./runtime/timeouts.ts";

/**
 * Parses an integer option value at least `min`, with a message commander shows on failure.
 * Only plain decimal digits: `1e3` or `0x10` are refused, since a typo there starts a very
 * different run.
 */
function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < min) {
      throw new InvalidArgumentError(
        `expected a whole number of at least ${min}, written in digits`,
      );
    }
    return number;
  };
}

/**
 * Parses a timeout in milliseconds: digits only, from 1 to the longest a timer can wait
 * (`runtime/timeouts.ts`; a longer one would fire after 1 ms and fail the run at once).
 */
function milliseconds(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !isTimeout(number)) {
    throw new InvalidArgumentError(`expected ${TIMEOUT_RANGE}, written in digits`);
  }
  return number;
}

/**
 * Parses a path option's value, refusing one that looks like an option: `--out --steps 5`
 * means the folder was forgotten, not a folder named `--steps`.
 */
function path(value: string): string {
  if (value.startsWith("-")) {
    throw new InvalidArgumentError(
      `expected a path, got "${value}", which looks like an option (did you forget the value?)`,
    );
  }
  return value;
}

/** Parses a TCP port, 1 to 65535. */
function tcpPort(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !(number >= 1 && number <= 65535)) {
    throw new InvalidArgumentError("expected a port number from 1 to 65535");
  }
  return number;
}

/** Parses a fraction in (0, 1], such as a target accuracy, written as a plain decimal. */
function fraction(value: string): number {
  const number = Number(value);
  if (!/^(0?\.\d+|1(\.0*)?|0)$/.test(value) || !(number > 0 && number <= 1)) {
    throw new InvalidArgumentError("expected a decimal number in (0, 1], such as 0.9");
  }
  return number;
}

/** `--allow-remote-modules`, on every command that loads a plan. */
const ALLOW_REMOTE_MODULES = [
  "--allow-remote-modules",
  "accept a custom model module given as an http:/https: URL (it runs in every worker: only for addresses you trust); data: and other schemes are always refused",
] as const;

const BACKENDS = ["auto", "webgpu", "wasm", "cpu"] as const;
const TRANSPORTS = ["tcp", "memory"] as const;
const CLOCKS = ["real", "virtual"] as const;
const LAUNCHES = ["threads", "processes", "none"] as const;

/** How `gossamer worker` finds its place, printed after its options. */
const WORKER_HELP = `
Where rank, world size and rendezvous come from, the first source that has each (a line on
standard error names the launcher and the variables used):
  1. --rank, --world, --rendezvous
  2. GOSSAMER_RANK, GOSSAMER_WORLD, GOSSAMER_RENDEZVOUS (host:port, [ipv6]:port)
  3. Slurm: SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; the first host of SLURM_STEP_NODELIST
     (else SLURM_JOB_NODELIST)
     a Kubernetes Indexed Job: JOB_COMPLETION_INDEX (world and rendezvous from GOSSAMER_*)
     torchrun: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT
A rendezvous host without a port gets GOSSAMER_PORT, else MASTER_PORT, else 29500.
Every rank needs the run's secret: GOSSAMER_SECRET or GOSSAMER_SECRET_FILE (or --secret-file).

A whole run of four workers under Slurm:
  export GOSSAMER_SECRET=$(openssl rand -hex 32)
  srun -n 4 deno run -A cli.ts worker --plan plan.json --out runs/x
Eight workers on two nodes, one process per node with four thread workers each (the all-reduces
reduce within a node in shared memory and ring between the nodes over TCP):
  srun -N 2 --ntasks-per-node 1 deno run -A cli.ts worker --plan plan.json --local-workers 4`;

/**
 * Writes help or a usage message. A reader that stopped reading (`gossamer run --help | head`)
 * closes the pipe; the rest of the text has nowhere to go, which is not an error.
 */
function writeUnlessClosed(stream: typeof Deno.stdout, text: string): void {
  const bytes = new TextEncoder().encode(text);
  try {
    for (let offset = 0; offset < bytes.length;) {
      offset += stream.writeSync(bytes.subarray(offset));
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  }
}

/**
 * Builds the command tree. Exported for the documentation: `scripts/cli_reference.ts` writes
 * docs/cli.md from every command's help, and a test checks the README's commands against it.
 *
 * @returns The `gossamer` command with its subcommands; parsing it runs their actions.
 * @ignore Not part of the library's API: the command line's own tree, for its reference.
 */
export function program(): Command {
  const root = new Command("gossamer")
    .description("Communication-efficient distributed training, written as typed pipelines")
    .version(
      `gossamer ${config.version} (Deno ${Deno.version.deno}, TensorFlow.js ${
        // The pinned version, read from deps/mod.ts rather than by loading TensorFlow.js.
        TFJS_VERSION})`,
      "-V, --version",
      "print the versions of gossamer, Deno and TensorFlow.js",
    )
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (text) => writeUnlessClosed(Deno.stdout, text),
      writeErr: (text) => writeUnlessClosed(Deno.stderr, text),
    })
    .exitOverride();

  root.command("plan")
    .description("Validate a pipeline module or plan JSON file, print the plan and explain it")
    .argument("<input>", "pipeline module (.ts) or plan file (.json)")
    .option("--json", "print { plan, explanation } as JSON")
    .option(...ALLOW_REMOTE_MODULES)
    .action(async (input, options) => await planCommand(input, options));

  root.command("topology")
    .description("Show a topology's mixing weights, degrees and spectral gap; draw it as SVG")
    .argument(
      "<name>",
      `${TOPOLOGY_NAMES.join(", ")}, or a preset: a .json file or an https: URL`,
    )
    .option(
      "-n, --workers <n>",
      "number of workers (a preset's own size when left out)",
      integerAtLeast(1),
    )
    .option("--step <k>", "step, for time-varying topologies", integerAtLeast(0), 0)
    .option("--rows <r>", "torus rows", integerAtLeast(1))
    .option("--cols <c>", "torus columns", integerAtLeast(1))
    .option("--hub <rank>", "star hub rank", integerAtLeast(0))
    .option("--svg <file>", "write an SVG drawing of the graph", path)
    .option(
      "--json",
      "print the topology as a preset (name, description, weights over one period), which fromFile and this command load",
    )
    .action(async (name, options) => await topologyCommand(name, options));

  root.command("run")
    .description("Train: run a pipeline module or plan file and write its run folder")
    .argument("<input>", "pipeline module (.ts) or plan file (.json)")
    .option("--out <dir>", "run folder (default: a new folder under runs/)", path)
    .option("--workers <n>", "override the plan's workers", integerAtLeast(1))
    .option("--steps <k>", "override the plan's steps", integerAtLeast(1))
    .option(
      "--eval-every <k>",
      "evaluate every k steps (default: the plan's, scaled with --steps)",
      integerAtLeast(1),
    )
    .option("--seed <s>", "override the plan's seed", integerAtLeast(0))
    .addOption(
      new Option("--backend <name>", "TensorFlow.js backend").choices(BACKENDS).default("auto"),
    )
    .addOption(
      new Option("--transport <name>", "how workers talk").choices(TRANSPORTS).default("tcp"),
    )
    .addOption(
      new Option(
        "--clock <kind>",
        "real: wall-clock time (a declared network shapes TCP sends); virtual: simulated time, nothing sleeps (memory transport)",
      ).choices(CLOCKS).default("real"),
    )
    .addOption(
      new Option("--launch <how>", "tcp workers: threads, local processes, or none (external)")
        .choices(LAUNCHES).default("threads"),
    )
    .option("--rendezvous <host:port>", "coordinator address for tcp workers", "127.0.0.1:0")
    .option(
      "--checkpoint-every <k>",
      "write a checkpoint every k steps (and after the last) into the run folder",
      integerAtLeast(1),
    )
    .option("--keep <n>", "checkpoints to keep, the newest (default 3)", integerAtLeast(1))
    .option(
      "--silence-timeout <ms>",
      "fail when no worker reports anything this long (default 60000, longer if the run shows long gaps)",
      milliseconds,
    )
    .option(
      "--peer-timeout <ms>",
      "workers fail when a peer is silent this long",
      milliseconds,
    )
    .option("--ignore-memory", "run even if the plan's estimated memory exceeds what is available")
    .option(...ALLOW_REMOTE_MODULES)
    .option(
      "--no-shared-memory",
      "thread workers all-reduce over their sockets instead of this process's shared memory",
    )
    .option(
      "--local-workers <k>",
      "with --launch processes: k consecutive workers per process, as threads that share memory (hierarchical all-reduces)",
      integerAtLeast(1),
    )
    .option(
      "--secret-file <file>",
      "the run's secret, for workers started elsewhere (default: a fresh one, written to <out>/secret)",
      path,
    )
    .option(
      "--handshake-timeout <ms>",
      "a connection's handshake limit (default 5000)",
      milliseconds,
    )
    .option(
      "--mac-mesh",
      "authenticate every mesh frame with a MAC, as control frames always are (16 bytes a frame and some CPU; --tls adds confidentiality)",
    )
    .option("--tls-cert <pem>", "TLS certificate chain of the coordinator and local workers", path)
    .option("--tls-key <pem>", "TLS private key", path)
    .option("--tls-ca <pem>", "CA that signed the certificates", path)
    .option("--quiet", "print only the run folder (no progress bar, no table)")
    .option(
      "--report [file]",
      "write the run's HTML report (default: report.html in the run folder)",
    )
    .action(async (input, options) => await runCommand(input, options));

  root.command("resume")
    .description("Continue a run from a checkpoint, exactly as if it had not stopped")
    .argument("<run>", "the run folder (it holds plan.json and checkpoints/)")
    .option(
      "--from <steps>",
      "the checkpoint taken after this many steps (default: the newest)",
      integerAtLeast(1),
    )
    .option(
      "--fallback",
      "when the newest checkpoint cannot be used (damaged, or of another plan), continue from the newest one that can",
    )
    .option("--out <dir>", "continue into another folder (default: the run folder itself)", path)
    .option("--steps <k>", "train up to k steps in all (default: the plan's)", integerAtLeast(1))
    .addOption(
      new Option(
        "--transport <kind>",
        "tcp or memory (one thread) (default: the run's; tcp alone continues in real time)",
      ).choices(TRANSPORTS),
    )
    .addOption(
      new Option(
        "--clock <kind>",
        "real or virtual (default: the run's; virtual alone continues on the memory transport)",
      ).choices(CLOCKS),
    )
    .addOption(
      new Option("--backend <backend>", "TensorFlow.js backend").choices(BACKENDS).default("auto"),
    )
    .option("--ignore-memory", "run even if the plan's estimated memory exceeds what is available")
    .option("--mac-mesh", "authenticate every mesh frame with a MAC, as `run --mac-mesh`")
    .option(...ALLOW_REMOTE_MODULES)
    .option("--quiet", "print only the run folder (no progress bar, no table)")
    .action(async (folder, options) => await resumeCommand(folder, options));

  root.command("worker")
    .description(
      "Join a run as one worker process. Its rank, world size and rendezvous come from the flags or from the launcher; under a launcher, rank 0 also hosts the coordinator and writes the run folder",
    )
    .addHelpText("after", WORKER_HELP)
    .requiredOption("--plan <file>", "plan file (.json) or pipeline module (.ts)", path)
    .option(...ALLOW_REMOTE_MODULES)
    .option("--rank <r>", "this worker's rank (default: from the launcher)", integerAtLeast(0))
    .option("--world <n>", "number of workers (default: from the launcher)", integerAtLeast(1))
    .option(
      "--rendezvous <host:port>",
      "the coordinator's address, [ipv6]:port for IPv6 (default: from the launcher, port $GOSSAMER_PORT, $MASTER_PORT or 29500)",
    )
    .option(
      "--join <host:port>",
      "join an elastic run in progress at this coordinator address (a restarted worker of a rank the run lost): the rendezvous, never hosting the coordinator",
    )
    .option(
      "--out <dir>",
      "run folder, written by the rank hosting the coordinator (default: a new folder under runs/)",
      path,
    )
    .option(
      "--coordinator",
      "host the coordinator on this rank (default: rank 0 when its rank comes from a launcher)",
    )
    .option(
      "--no-coordinator",
      "never host the coordinator: rank 0 joins one started with `gossamer run --launch none`",
    )
    .addOption(
      new Option("--backend <name>", "TensorFlow.js backend").choices(BACKENDS).default("auto"),
    )
    .option(
      "--host <address>",
      "interface to bind: the mesh listener's (default: the address that reached the coordinator) and, on the rank hosting it, the coordinator's (default: every interface)",
    )
    .option(
      "--advertise <host>",
      "the address peers dial (default: --host, or when it is a wildcard or not given, the address that reached the coordinator)",
    )
    .option(
      "--local-workers <k>",
      "run k consecutive workers in this process as threads that share memory (all-reduces: within the process in memory, between processes over TCP); rank and world then count processes",
      integerAtLeast(1),
    )
    .option("--peer-timeout <ms>", "fail when a peer is silent this long", milliseconds)
    .option(
      "--secret-file <file>",
      "the run's secret (default: $GOSSAMER_SECRET or $GOSSAMER_SECRET_FILE)",
      path,
    )
    .option(
      "--rendezvous-timeout <ms>",
      "keep retrying to reach the coordinator this long (default 60000)",
      milliseconds,
    )
    .option(
      "--handshake-timeout <ms>",
      "a connection's handshake limit (default 5000)",
      milliseconds,
    )
    .option(
      "--mac-mesh",
      "rank 0 hosting the coordinator: authenticate every mesh frame with a MAC (other workers follow the coordinator)",
    )
    .option("--tls-cert <pem>", "TLS certificate chain for this worker's mesh listener", path)
    .option("--tls-key <pem>", "TLS private key", path)
    .option("--tls-ca <pem>", "CA that signed the peers' and the coordinator's certificates", path)
    .action(async (options) => await workerCommand(options));

  root.command("demo")
    .description("Train the demo pipelines on MNIST with TCP workers and compare them")
    .option("--out <dir>", "parent folder of the demo's run folders", path)
    .option("--quiet", "no progress bars")
    .option(
      "--lm",
      "the language-model demo: a transformer on the embedded Moby-Dick text, all-reduce AdamW against local AdamW",
    )
    .action(async (options) => await demoCommand(options));

  root.command("experiment")
    .description("Run every pipeline of an experiment folder and compare them in one table")
    .argument("<folder>", "a folder of pipelines, with an optional experiment.json")
    .option("--out <dir>", "parent folder of the experiment's run folders", path)
    .option("--quiet", "no progress bars")
    .action(async (folder, options) => await experimentCommand(folder, options));

  root.command("experiments")
    .description(
      "Run every experiment of examples/experiments/, check what each expects, write reports",
    )
    .option("--only <names...>", "run only these experiments (folder names)")
    .option("--out <dir>", "parent folder of the runs and reports", path)
    .option("--quiet", "no progress bars; print the results at the end")
    .action(async (options) => await experimentsCommand(options));

  root.command("compare")
    .description("Compare run folders in a table; write an HTML report and a CSV table")
    .argument("<runs...>", "run folders (each holds plan.json, metrics.jsonl, summary.json)")
    .option("--html <file>", "write a self-contained HTML report with plots", path)
    .option("--csv <file>", "write the table as CSV", path)
    .option("--target <accuracy>", "time and bytes to reach this test accuracy", fraction)
    .option("--title <text>", "the HTML report's title")
    .option("--quiet", "print nothing but errors")
    .action(async (runs, options) => await compareCommand(runs, options));

  root.command("serve")
    .description("A local dashboard of the runs in a folder, live while they train")
    .argument("[folder]", "the folder of runs", "runs")
    .option("--port <port>", "port to listen on (0: any free port)", integerAtLeast(0), 8080)
    .option("--host <address>", "interface to bind (default: this machine only)", "127.0.0.1")
    .option(
      "--token <secret>",
      "the secret every request must present (128 bits or more of hex or base64); beyond " +
        "loopback one is made and printed when not given",
    )
    .option(
      "--allow-host <names...>",
      "host names (besides addresses and localhost) the dashboard may be opened by",
    )
    .option("--quiet", "print nothing but errors (and a made token, the only way in)")
    .action(async (folder, options) => await serveCommand(folder, options));

  const bench = root.command("bench")
    .description("Measure this machine's collectives (as nccl-tests does)");
  bench.command("allreduce")
    .description(
      "All-reduce time, algbw and busbw per size and world size, every result checked, " +
        "beside raw TCP",
    )
    .option("--mib <n>", "one vector size in MiB", integerAtLeast(1))
    .option("--sizes <list>", "sizes such as 8,64K,1K..256M (ranges double); default 8,1M,64M")
    .option("--ranks <list>", "world sizes, comma-separated", "2,4")
    .option("--launch <list>", "threads, processes or both, comma-separated", "threads,processes")
    .option("--no-shared-memory", "thread ranks reduce over TCP instead of shared memory")
    .option("--iterations <n>", "fewest timed iterations per size", integerAtLeast(1), 5)
    .option("--segment-kib <n>", "KiB per ring message (default 1024)", integerAtLeast(1))
    .option("--gloo", "also measure PyTorch's Gloo the same way (needs python3-torch)")
    .option("--json", "print one JSON document (busbw in bytes per second)")
    .action(async (options) => await benchAllReduceCommand(options));

  root.command("examples")
    .description("Compile every example pipeline, compare their traffic, say what each needs")
    .argument("[folder]", "a folder of pipelines (default: the examples)")
    .option("--smoke", "also run each example for a few steps, in this process")
    .action(async (folder, options) => await examplesCommand(folder, options));

  root.command("slurm")
    .description(
      "Write a Slurm batch script running a plan's workers, one per task or --local-workers per task (--submit: sbatch it)",
    )
    .argument("<input>", "pipeline module (.ts) or plan file (.json)")
    .requiredOption("--nodes <n>", "nodes to allocate", integerAtLeast(1))
    .requiredOption("--tasks-per-node <k>", "worker processes per node", integerAtLeast(1))
    .option(
      "--local-workers <k>",
      "workers per task, run as threads that share memory on k CPUs (the all-reduces become hierarchical)",
      integerAtLeast(1),
    )
    .option(
      "--workers <n>",
      "override the plan's workers, as run --workers does (must equal nodes × tasks per node × local workers)",
      integerAtLeast(1),
    )
    .option("--partition <name>", "#SBATCH --partition")
    .option("--time <limit>", "#SBATCH --time: minutes, HH:MM:SS or D-HH:MM:SS")
    .option("--account <name>", "#SBATCH --account")
    .option("--job-name <name>", "#SBATCH --job-name (default: the pipeline's file name)")
    .option(
      "--restarts <n>",
      "elastic plans: times each task's worker is started again to rejoin the run (default 3)",
      integerAtLeast(0),
    )
    .option("--out <file>", "the script (default: <job name>.sbatch here)", path)
    .option("--force", "replace the script if it exists")
    .option("--submit", "submit the script with sbatch and print the job id")
    .action(async (input, options) => await slurmCommand(input, options));

  root.command("k8s")
    .description(
      "Write Kubernetes objects running a plan's workers as an Indexed Job, for kubectl apply -f -",
    )
    .argument("<input>", "pipeline module (.ts) or plan file (.json)")
    .requiredOption("--image <image>", "the container image, built from the Dockerfile")
    .requiredOption(
      "--workers <n>",
      "the run's workers, a pod each unless --local-workers (the plan's workers become n, as with run --workers)",
      integerAtLeast(1),
    )
    .option(
      "--local-workers <k>",
      "workers per pod, run as threads that share memory on k CPUs (n/k pods; the all-reduces become hierarchical)",
      integerAtLeast(1),
    )
    .option("--namespace <name>", "the namespace of every object (default: kubectl's)")
    .option(
      "--name <name>",
      "name of the Job and Service, prefix of the ConfigMap and Secret (default: the pipeline's file name)",
    )
    .option("--port <port>", "the rendezvous port on pod 0", tcpPort, 29500)
    .option(
      "--restarts <n>",
      "elastic plans: times each failed worker pod is started again to rejoin the run (default 3)",
      integerAtLeast(0),
    )
    .option("--out <file>", "write the YAML here (mode 0600) instead of standard output", path)
    .option("--force", "replace --out if it exists")
    .action(async (input, options) => await k8sCommand(input, options));

  return root as unknown as Command;
}

/** Errors that are the user's input, reported as one message with exit code 1. */
function isInputError(error: unknown): error is Error {
  return error instanceof PlanError || error instanceof PlanLoadError ||
    error instanceof TopologyFileError || error instanceof LeastSquaresFileError ||
    error instanceof CliInputError || error instanceof RunError ||
    error instanceof CommandFailedError;
}

/**
 * Runs the command line.
 *
 * @param args Arguments after the program name.
 * @returns The exit code.
 */
export async function main(args: readonly string[]): Promise<number> {
  try {
    await program().parseAsync([...args], { from: "user" });
    return 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("commander.")) {
      // Commander has already printed help, the version or the usage error.
      const helpOrVersion = ["commander.helpDisplayed", "commander.help", "commander.version"];
      return helpOrVersion.includes(code) ? 0 : 2;
    }
    if (isInputError(error)) {
      console.error(error instanceof RunError ? error.message + resumeHint(error) : error.message);
      if (error instanceof RunError && error.interrupted) {
        return signalExitCode(interruptedBy ?? "SIGINT");
      }
      return 1;
    }
    console.error(`gossamer: internal error: ${messageOf(error)}`);
    if (Deno.env.get("GOSSAMER_DEBUG")) console.error(error);
    return 70;
  }
}

if (import.meta.main) Deno.exitCode = await main(Deno.args);
