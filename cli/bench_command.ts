/**
 * `gossamer bench allreduce`: the all-reduce benchmark of `runtime/comm/bench/`, with sizes
 * written as nccl-tests users write them (`8`, `64K`, `1K..256M`), a table in nccl-tests'
 * columns, or one JSON document (`--json`) for scripts.
 *
 * @module
 */

import {
  type AllReduceResult,
  benchAllReduce,
  type BenchLaunch,
  type RawTcpResult,
} from "../runtime/comm/bench/allreduce_bench.ts";
import { CliInputError, CommandFailedError } from "./errors.ts";
import { type GlooResult, measureGloo } from "./gloo_reference.ts";

const UNITS: Record<string, number> = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30 };
/** The largest vector the benchmark accepts: 2 GiB. */
const MAX_BYTES = 2 ** 31;

/** Parses one size such as `8`, `64K`, `256M` or `1G` (binary units, optional `B`/`iB`). */
function parseSize(text: string): number {
  const match = /^(\d+)\s*([KMG]?)(i?B)?$/i.exec(text.trim());
  if (!match) {
    throw new CliInputError(
      `--sizes: "${text}" is not a size; write bytes as 8, 64K, 256M or 1G`,
    );
  }
  const bytes = Number(match[1]) * UNITS[match[2]!.toUpperCase()]!;
  if (bytes < 4 || bytes % 4 !== 0 || bytes > MAX_BYTES) {
    throw new CliInputError(
      `--sizes: ${text} is not a whole number of float32 values between 4 bytes and 2G`,
    );
  }
  return bytes;
}

/**
 * Parses a list of sizes: comma-separated sizes and ranges `A..B`, which double from A up to B
 * (as nccl-tests' `-b A -e B -f 2`).
 *
 * @param text The option's value.
 * @returns Byte counts, ascending, without repeats.
 * @throws {CliInputError} Naming the part that is not a size.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSizes } from "./bench_command.ts";
 * assert.deepEqual(parseSizes("8,1K..4K"), [8, 1024, 2048, 4096]);
 * assert.deepEqual(parseSizes("64M"), [64 * 2 ** 20]);
 * ```
 */
export function parseSizes(text: string): number[] {
  const sizes = new Set<number>();
  for (const part of text.split(",")) {
    const range = part.split("..");
    if (range.length > 2) throw new CliInputError(`--sizes: "${part}" is not a size or a range`);
    const low = parseSize(range[0]!);
    const high = range.length === 2 ? parseSize(range[1]!) : low;
    if (high < low) throw new CliInputError(`--sizes: the range "${part}" runs backwards`);
    for (let bytes = low; bytes <= high; bytes *= 2) sizes.add(bytes);
  }
  return [...sizes].sort((a, b) => a - b);
}

/**
 * Parses a comma-separated list of world sizes, each at least 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRanks } from "./bench_command.ts";
 * assert.deepEqual(parseRanks("2,4"), [2, 4]);
 * ```
 */
export function parseRanks(text: string): number[] {
  return text.split(",").map((part) => {
    const ranks = Number(part);
    if (!/^\d+$/.test(part.trim()) || ranks < 1 || ranks > 256) {
      throw new CliInputError(`--ranks: "${part}" is not a number of ranks between 1 and 256`);
    }
    return ranks;
  });
}

/** Parses `threads`, `processes` or both, comma-separated. */
export function parseLaunches(text: string): BenchLaunch[] {
  return text.split(",").map((part) => {
    const launch = part.trim();
    if (launch !== "threads" && launch !== "processes") {
      throw new CliInputError(`--launch: "${part}" is not threads or processes`);
    }
    return launch;
  });
}

/** Bytes in nccl-tests' style: plain below 1 KiB, else K, M or G. */
export function formatBytes(bytes: number): string {
  for (const [unit, scale] of [["G", 2 ** 30], ["M", 2 ** 20], ["K", 2 ** 10]] as const) {
    if (bytes >= scale && bytes % scale === 0) return `${bytes / scale}${unit}`;
  }
  return String(bytes);
}

const GB = 1e9;

function row(result: AllReduceResult | GlooResult): string {
  const cells = [
    formatBytes(result.bytes),
    String(result.bytes / 4),
    String(result.ranks),
    result.launch,
    result.path,
    (result.seconds * 1e6).toFixed(1),
    (result.algbw / GB).toFixed(3),
    (result.busbw / GB).toFixed(3),
    (result.cpuSeconds * 1e6).toFixed(0),
    result.correct ? "0" : "WRONG",
  ];
  return `| ${cells.join(" | ")} |`;
}

function rawLine(raw: RawTcpResult): string {
  return `raw TCP, one stream between two ${raw.launch} over 127.0.0.1: ${
    (raw.bytesPerSecond / GB).toFixed(3)
  } GB/s (${formatBytes(raw.bytes)}, median of 3)`;
}

/** Options of `gossamer bench allreduce`, as commander parses them. */
export interface BenchAllReduceOptions {
  readonly mib?: number;
  readonly sizes?: string;
  readonly ranks: string;
  readonly launch: string;
  readonly sharedMemory: boolean;
  readonly iterations: number;
  readonly segmentKib?: number;
  /** Also measure PyTorch's Gloo, the same way, in the same run. */
  readonly gloo?: boolean;
  readonly json?: boolean;
}

/**
 * Runs `gossamer bench allreduce` and prints its table (or JSON).
 *
 * @param options The parsed options.
 * @throws {CliInputError} For bad sizes, ranks or launches.
 * @throws {CommandFailedError} When a result is wrong (after printing every result).
 */
export async function benchAllReduceCommand(options: BenchAllReduceOptions): Promise<void> {
  if (options.mib !== undefined && options.sizes !== undefined) {
    throw new CliInputError("Give --mib or --sizes, not both");
  }
  const sizes = options.sizes !== undefined
    ? parseSizes(options.sizes)
    : options.mib !== undefined
    ? [options.mib * 2 ** 20]
    : [8, 2 ** 20, 64 * 2 ** 20];
  if (options.mib !== undefined && (options.mib < 1 || options.mib * 2 ** 20 > MAX_BYTES)) {
    throw new CliInputError(`--mib: ${options.mib} is not between 1 and 2048`);
  }
  const ranks = parseRanks(options.ranks);
  const launches = parseLaunches(options.launch);
  const json = options.json === true;
  if (!json) {
    console.log(
      `# all-reduce (sum) of float32, ${navigator.hardwareConcurrency} CPUs, load average ${
        Deno.loadavg()[0]?.toFixed(1)
      }; time: median of the slowest rank; algbw = size/time, busbw = algbw·2(n−1)/n (GB/s = 1e9 B/s); cpu: CPU time of all ranks per call`,
    );
  }
  let headerShown = false;
  const header = () => {
    if (json || headerShown) return;
    console.log(
      "| size | count | ranks | launch | path | time (us) | algbw (GB/s) | busbw (GB/s) | cpu (us) | #wrong |",
    );
    console.log("| ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |");
    headerShown = true;
  };
  const report = await benchAllReduce({
    sizes,
    ranks,
    launches,
    sharedMemory: options.sharedMemory,
    iterations: options.iterations,
    ...(options.segmentKib === undefined ? {} : { segmentBytes: options.segmentKib * 1024 }),
    onRawTcp: (raw) => {
      if (json) return;
      console.log(`${headerShown ? "\n" : ""}${rawLine(raw)}`);
      headerShown = false; // each launch's results get a table of their own
    },
    onResult: (result) => {
      if (json) return;
      header();
      console.log(row(result));
    },
  });
  let gloo: GlooResult[] | null = null;
  if (options.gloo) {
    gloo = await measureGloo(sizes, ranks, options.iterations);
    if (gloo !== null && !json) {
      console.log("\nPyTorch's Gloo, measured the same way (processes over TCP):");
      headerShown = false;
      header();
      for (const result of gloo) console.log(row(result));
    }
  }
  if (json) {
    console.log(JSON.stringify(
      {
        machine: {
          cpus: navigator.hardwareConcurrency,
          loadAverage: Deno.loadavg()[0],
          deno: Deno.version.deno,
        },
        rawTcp: report.rawTcp,
        results: report.results,
        ...(gloo === null ? {} : { gloo }),
      },
      null,
      2,
    ));
  }
  if (options.gloo && gloo === null) {
    throw new CommandFailedError(
      "--gloo: no Python here has PyTorch (apt-get install -y python3-torch, or set GLOO_PYTHON " +
        "to a Python that has it); gossamer's results are above",
    );
  }
  const wrong = report.results.filter((result) => !result.correct);
  if (wrong.length > 0) {
    throw new CommandFailedError(
      `${wrong.length} all-reduce result(s) were wrong, the first at ${
        formatBytes(wrong[0]!.bytes)
      } over ${wrong[0]!.ranks} ${wrong[0]!.launch}: ${wrong[0]!.wrong}`,
    );
  }
}
