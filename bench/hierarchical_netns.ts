/**
 * The hierarchical all-reduce against the flat ring between two "hosts" joined by a shaped link
 * (network namespaces with `tc tbf`, `scripts/netns.sh`; root only). Four workers of the MNIST
 * MLP train with all-reduce SGD, two per host, in interleaved rounds:
 *
 * - flat: four worker processes, ranks 0–1 on host A and 2–3 on host B, one ring over TCP whose
 *   links 1→2 and 3→0 cross between the hosts;
 * - hierarchical: one process per host with `--local-workers 2`: each host sums in shared
 *   memory and only its first worker sends, in a ring of two over the link.
 *
 * Run: `deno run -A bench/hierarchical_netns.ts [--rate 100mbit] [--steps 60] [--rounds 2]`.
 * Prints, per round and layout, the time per step (from the workers' own step timings, after
 * ten warm-up steps), the bytes that crossed between the hosts per step, and the final loss.
 *
 * @module
 */

import { join } from "node:path";
import { allReduce, mlp, mnist, sgd, train } from "../mod.ts";
import { type Namespace, startWorkerIn, withNamespaces } from "../tests/cluster/_netns.ts";
import { reap, type Started } from "../tests/runtime/_processes.ts";

interface Settings {
  rate: string;
  steps: number;
  rounds: number;
}

function parseSettings(args: readonly string[]): Settings {
  const settings: Settings = { rate: "100mbit", steps: 60, rounds: 2 };
  for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1] ?? "";
    if (args[i] === "--rate") settings.rate = value;
    else if (args[i] === "--steps") settings.steps = Number(value);
    else if (args[i] === "--rounds") settings.rounds = Number(value);
    else throw new Error(`Unknown option ${args[i]}`);
  }
  return settings;
}

/** One layout's measurement. */
interface Measured {
  layout: string;
  stepMs: number;
  crossBytesPerStep: number;
  finalLoss: number;
}

const WARM_UP = 10;

/**
 * Runs the plan with `processes` worker processes per host, `local` workers each, and reads
 * the step time and the bytes that crossed between the hosts from the run folder.
 */
async function measure(
  hosts: Namespace[],
  planFile: string,
  out: string,
  perHost: number,
  local: number,
  steps: number,
): Promise<Omit<Measured, "layout">> {
  const processes = hosts.length * perHost;
  const rendezvous = `${hosts[0]!.address}:29500`;
  const started: Started[] = [];
  try {
    for (let rank = 0; rank < processes; rank++) {
      const host = hosts[Math.floor(rank / perHost)]!;
      started.push(startWorkerIn(host, { rank, world: processes, rendezvous }, [
        "--plan",
        planFile,
        "--out",
        out,
        "--host",
        host.address,
        "--local-workers",
        String(local),
      ]));
    }
    const results = await Promise.all(started.map((process) => process.output));
    results.forEach((result, rank) => {
      if (result.code !== 0) throw new Error(`process ${rank} failed: ${result.stderr}`);
    });
  } finally {
    await Promise.all(started.map(reap));
  }
  const lines = (await Deno.readTextFile(join(out, "metrics.jsonl"))).trim().split("\n")
    .map((line) => JSON.parse(line));
  const stepLines = lines.filter((line) => line.type === "step");
  // The slowest worker's time from the end of the warm-up to the last step.
  const elapsed = (step: number) =>
    Math.max(
      ...stepLines.filter((line) => line.step === step).map((line) => line.elapsedMs as number),
    );
  const stepMs = (elapsed(steps - 1) - elapsed(WARM_UP - 1)) / (steps - WARM_UP);
  const summary = JSON.parse(await Deno.readTextFile(join(out, "summary.json")));
  // Workers are hosts.length groups of consecutive ranks; a worker's all-reduce bytes cross to
  // the other host when the next rank in its ring lives there: the last worker of each host
  // (flat ring) or the first of each host (the ring of the hosts' first workers).
  const workersPerHost = summary.workers / hosts.length;
  const crossing = (worker: number) =>
    local === 1 ? worker % workersPerHost === workersPerHost - 1 : worker % workersPerHost === 0;
  const cross = summary.bytes
    .filter((_: unknown, worker: number) => crossing(worker))
    .reduce((sum: number, bytes: { sent: { base: number } }) => sum + bytes.sent.base, 0);
  return { stepMs, crossBytesPerStep: cross / steps, finalLoss: summary.final.testLoss };
}

if (import.meta.main) {
  const settings = parseSettings(Deno.args);
  const plan = train(mlp({ hidden: [128] }))
    .data(mnist({ trainSize: 2000, testSize: 500 }))
    .workers(4)
    .optimizer(sgd({ lr: 0.1 }))
    .base(allReduce())
    .steps(settings.steps)
    .evalEvery(settings.steps)
    .compile();
  const folder = await Deno.makeTempDir({ prefix: "gossamer_hierarchical_" });
  const planFile = join(folder, "plan.json");
  await Deno.writeTextFile(planFile, JSON.stringify(plan));
  const rows: (Measured & { round: number })[] = [];
  try {
    await withNamespaces([settings.rate, settings.rate], async (hosts) => {
      for (let round = 1; round <= settings.rounds; round++) {
        const flat = await measure(
          hosts,
          planFile,
          join(folder, `flat${round}`),
          2,
          1,
          settings.steps,
        );
        rows.push({ round, layout: "flat ring, 4 processes", ...flat });
        const hierarchical = await measure(
          hosts,
          planFile,
          join(folder, `hierarchical${round}`),
          1,
          2,
          settings.steps,
        );
        rows.push({ round, layout: "hierarchical, 2 processes × 2 threads", ...hierarchical });
      }
    });
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
  console.log(
    `# 4 workers of the MNIST MLP [128], all-reduce SGD, 2 hosts joined by links shaped to ${settings.rate} (tbf), ${settings.steps} steps`,
  );
  console.log(
    "| round | layout | ms per step | bytes between the hosts per step | final test loss |",
  );
  console.log("| ---: | --- | ---: | ---: | ---: |");
  for (const row of rows) {
    console.log(
      `| ${row.round} | ${row.layout} | ${row.stepMs.toFixed(1)} | ${
        Math.round(row.crossBytesPerStep)
      } | ${row.finalLoss.toFixed(4)} |`,
    );
  }
}
