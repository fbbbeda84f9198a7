/**
 * gossamer's all-reduce beside PyTorch's Gloo, measured the same way in the same run, in
 * interleaved rounds (Gloo, then gossamer's processes over TCP, then its threads through shared
 * memory), so that both see the same machine. The Gloo side is `gloo_allreduce.py` (PyTorch with
 * Gloo: `apt-get install -y python3-torch`); without it only gossamer is measured, and the
 * table says so.
 *
 * Run: `deno run -A bench/allreduce_vs_gloo.ts [--rounds 3] [--sizes 8,1M,64M] [--ranks 2,4]
 * [--segment-kib 256]`. Prints a Markdown table per round and a summary of medians: busbw (GB/s)
 * and CPU per all-reduce (all ranks together) for large sizes, time (µs) for the 8-byte latency,
 * and the ratios to Gloo.
 *
 * @module
 */

import {
  type AllReduceResult,
  benchAllReduce,
  median,
} from "../runtime/comm/bench/allreduce_bench.ts";
import { formatBytes, parseRanks, parseSizes } from "../cli/bench_command.ts";
import { measureGloo } from "../cli/gloo_reference.ts";

interface Settings {
  rounds: number;
  sizes: number[];
  ranks: number[];
  segmentKib: number | undefined;
}

function parseSettings(args: readonly string[]): Settings {
  const settings: Settings = {
    rounds: 3,
    sizes: parseSizes("8,1M,64M"),
    ranks: [2, 4],
    segmentKib: undefined,
  };
  for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1] ?? "";
    if (args[i] === "--rounds") settings.rounds = Number(value);
    else if (args[i] === "--sizes") settings.sizes = parseSizes(value);
    else if (args[i] === "--ranks") settings.ranks = parseRanks(value);
    else if (args[i] === "--segment-kib") settings.segmentKib = Number(value);
    else throw new Error(`Unknown option ${args[i]}: --rounds, --sizes, --ranks, --segment-kib`);
  }
  return settings;
}

type Row =
  & Pick<AllReduceResult, "bytes" | "ranks" | "seconds" | "busbw" | "cpuSeconds" | "correct">
  & {
    readonly who: string;
  };

/** Gloo's results as rows, or null when no Python here has PyTorch. */
async function gloo(sizes: readonly number[], ranks: readonly number[]): Promise<Row[] | null> {
  const results = await measureGloo(sizes, ranks);
  return results?.map((result) => ({ ...result, who: "Gloo (processes, TCP)" })) ?? null;
}

async function ours(settings: Settings): Promise<Row[]> {
  const report = await benchAllReduce({
    sizes: settings.sizes,
    ranks: settings.ranks,
    launches: ["processes", "threads"],
    rawBytes: 0,
    ...(settings.segmentKib === undefined ? {} : { segmentBytes: settings.segmentKib * 1024 }),
  });
  return report.results.map((result) => ({
    ...result,
    who: `gossamer (${result.launch}, ${result.path})`,
  }));
}

/** CPU milliseconds per all-reduce, all ranks together. */
const cpuMs = (seconds: number) => `${(seconds * 1e3).toFixed(0)} ms CPU`;

const describe = (row: Row) =>
  row.bytes <= 1024
    ? `${(row.seconds * 1e6).toFixed(0)} us`
    : `${(row.busbw / 1e9).toFixed(2)} GB/s, ${cpuMs(row.cpuSeconds)}`;

if (import.meta.main) {
  const settings = parseSettings(Deno.args);
  console.log(
    `# all-reduce, float32 sum, ${navigator.hardwareConcurrency} CPUs; busbw for sizes above ` +
      "1K, time for smaller; median of the slowest rank per size; GB/s = 1e9 B/s\n",
  );
  const all: Row[] = [];
  let glooMissing = false;
  for (let round = 1; round <= settings.rounds; round++) {
    const load = Deno.loadavg()[0]?.toFixed(1);
    const glooRows = await gloo(settings.sizes, settings.ranks);
    if (glooRows === null) glooMissing = true;
    const rows = [...(glooRows ?? []), ...await ours(settings)];
    all.push(...rows);
    console.log(`## round ${round} (load average ${load} at its start)\n`);
    console.log(`| who | ranks | ${settings.sizes.map(formatBytes).join(" | ")} |`);
    console.log(`| --- | ---: | ${settings.sizes.map(() => "---:").join(" | ")} |`);
    for (const who of new Set(rows.map((row) => row.who))) {
      for (const n of settings.ranks) {
        const cells = settings.sizes.map((bytes) => {
          const row = rows.find((r) => r.who === who && r.ranks === n && r.bytes === bytes);
          return row === undefined ? "" : describe(row) + (row.correct ? "" : " WRONG");
        });
        console.log(`| ${who} | ${n} | ${cells.join(" | ")} |`);
      }
    }
    console.log();
  }
  if (glooMissing) {
    console.log(
      "Gloo was not measured: no Python here has PyTorch (apt-get install -y python3-torch).\n",
    );
  }
  console.log(`## medians over ${settings.rounds} rounds, and the ratio to Gloo's median\n`);
  console.log(`| who | ranks | ${settings.sizes.map(formatBytes).join(" | ")} |`);
  console.log(`| --- | ---: | ${settings.sizes.map(() => "---:").join(" | ")} |`);
  for (const who of new Set(all.map((row) => row.who))) {
    for (const n of settings.ranks) {
      const cells = settings.sizes.map((bytes) => {
        const pick = (w: string) =>
          all.filter((r) => r.who === w && r.ranks === n && r.bytes === bytes);
        const rows = pick(who);
        if (rows.length === 0) return "";
        const small = bytes <= 1024;
        const value = median(rows.map((r) => small ? r.seconds : r.busbw));
        const glooRows = pick("Gloo (processes, TCP)");
        const cpu = median(rows.map((r) => r.cpuSeconds));
        const text = small
          ? `${(value * 1e6).toFixed(0)} us`
          : `${(value / 1e9).toFixed(2)} GB/s, ${cpuMs(cpu)}`;
        if (glooRows.length === 0 || who.startsWith("Gloo")) return text;
        const glooValue = median(glooRows.map((r) => small ? r.seconds : r.busbw));
        const glooCpu = median(glooRows.map((r) => r.cpuSeconds));
        // Above 1: gossamer is better (more bandwidth, or less time; less CPU).
        const ratio = small ? glooValue / value : value / glooValue;
        return `${text} (${ratio.toFixed(2)}×; CPU ${(cpu / glooCpu).toFixed(2)}× Gloo's)`;
      });
      console.log(`| ${who} | ${n} | ${cells.join(" | ")} |`);
    }
  }
}
