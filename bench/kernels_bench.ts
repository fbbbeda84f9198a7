/**
 * The vector kernels (`runtime/kernels/`) against the JavaScript loops they replace, measured in
 * the same run in interleaved rounds (JavaScript, then WebAssembly SIMD, each round), so that
 * both see the same machine; the load average is printed with each round. Three levels:
 *
 * - `addInto`, the ring all-reduce's reduction, over 64 MiB in 1 MiB segments, beside a plain
 *   copy of the same bytes;
 * - the shared-memory all-reduce of 4 ranks in this thread (the reduction's CPU time alone);
 * - `gossamer bench allreduce`'s CPU seconds and time per 64 MiB all-reduce of 4 ranks, thread
 *   ranks through shared memory and process ranks over TCP.
 *
 * - QSGD encode + decode at d = 1M and 10M, in ms and as a percentage of a plain copy's speed
 *   (the issue's measure: the copy's time over the codec's): the decode into a float64 vector
 *   (`addDecoded`), and the compressed mean's decode (`meanOf`, four codes, and one code after
 *   its encode), which keeps its float64 sum in kernel memory.
 *
 * Run: `deno run -A bench/kernels_bench.ts [--rounds 3] [--mib 64] [--ranks 4] [--no-allreduce]
 * [--no-codecs]`
 *
 * @module
 */

import { addInto, selectKernels } from "../runtime/kernels/vector_kernels.ts";
import { createSharedArena, SharedReducer } from "../runtime/comm/shared_reduce.ts";
import { qsgd } from "../dsl/compressors/mod.ts";
import { createCodec } from "../runtime/compressors/registry.ts";
import { randomStream } from "../runtime/random.ts";
import {
  type AllReduceResult,
  benchAllReduce,
  median,
} from "../runtime/comm/bench/allreduce_bench.ts";

interface Settings {
  rounds: number;
  mib: number;
  ranks: number;
  allReduce: boolean;
  codecs: boolean;
}

function parseSettings(args: readonly string[]): Settings {
  const settings: Settings = {
    rounds: 3,
    mib: 64,
    ranks: 4,
    allReduce: true,
    codecs: true,
  };
  for (let i = 0; i < args.length; i++) {
    const value = Number(args[i + 1]);
    if (args[i] === "--no-allreduce") settings.allReduce = false;
    else if (args[i] === "--no-codecs") settings.codecs = false;
    else if (["--rounds", "--mib", "--ranks"].includes(args[i]!) && Number.isInteger(value)) {
      settings[args[i]!.slice(2) as "rounds" | "mib" | "ranks"] = value;
      i++;
    } else {throw new Error(
        `Unknown option ${args[i]}: --rounds N, --mib N, --ranks N, --no-allreduce`,
      );}
  }
  return settings;
}

/** Milliseconds of `f`, the median of `times` calls. */
function timeMs(f: () => void, times = 5): number {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    f();
    ms.push(performance.now() - start);
  }
  return median(ms);
}

/** Random vectors, one per rank. */
function vectors(ranks: number, floats: number): Float32Array[] {
  return Array.from({ length: ranks }, () => Float32Array.from({ length: floats }, Math.random));
}

/** `addInto` over `target` in ring segments of 1 MiB. */
function ringReduce(target: Float32Array, source: Float32Array): void {
  const segment = 262_144;
  for (let lo = 0; lo < target.length; lo += segment) {
    addInto(target.subarray(lo, lo + segment), source.subarray(lo, lo + segment));
  }
}

/** CPU milliseconds of one shared-memory all-reduce of `inputs`, all ranks in this thread. */
async function sharedReduceMs(inputs: Float32Array[]): Promise<number> {
  const arena = createSharedArena(inputs.length);
  const reducers = inputs.map((_, rank) => new SharedReducer(arena, rank));
  const ms: number[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      const start = performance.now();
      await Promise.all(reducers.map((reducer, rank) => reducer.sumInPlace(inputs[rank]!)));
      ms.push(performance.now() - start);
    }
  } finally {
    for (const reducer of reducers) reducer.close();
  }
  return median(ms.slice(1));
}

const KERNELS = ["js", "wasm"] as const;
type Kernels = typeof KERNELS[number];
type Row = { what: string; kernels: Kernels; value: number };

if (import.meta.main) {
  const settings = parseSettings(Deno.args);
  const floats = settings.mib * 2 ** 18;
  console.log(
    `# vector kernels vs JavaScript, ${settings.mib} MiB, ${settings.ranks} ranks, ` +
      `${navigator.hardwareConcurrency} CPUs; medians; interleaved rounds\n`,
  );
  const rows: Row[] = [];
  const [target, source] = vectors(2, floats);
  const copy = new Float32Array(floats);
  const inputs = vectors(settings.ranks, floats);
  const qsgdInputs = settings.codecs
    ? [1_000_000, 10_000_000].map((d) => [d, vectors(1, d)[0]!] as const)
    : [];
  for (let round = 1; round <= settings.rounds; round++) {
    console.log(`## round ${round} (load average ${Deno.loadavg().map((l) => l.toFixed(2))})\n`);
    // Each measurement for both kernels back to back, the order flipped every other round.
    const order = round % 2 === 1 ? KERNELS : [...KERNELS].reverse();
    const both = async (what: string, measure: (kernels: Kernels) => Promise<number> | number) => {
      for (const kernels of order) {
        selectKernels(kernels);
        const value = await measure(kernels);
        rows.push({ what, kernels, value });
        console.log(`${kernels.padEnd(5)} ${what.padEnd(56)} ${value.toFixed(2)}`);
      }
    };
    /**
     * `f` with each kernels in turn, call by call (`reps` calls each), a plain copy of `bytes`
     * timed between them: the medians of each, and the copy's time over `f`'s in %.
     */
    const interleaved = (what: string, f: () => void, reps: number, copyOf: Float32Array) => {
      const ms = new Map<Kernels, number[]>(KERNELS.map((k) => [k, []]));
      const copyMs: number[] = [];
      for (let i = 0; i < reps; i++) {
        for (const kernels of order) {
          selectKernels(kernels);
          const start = performance.now();
          f();
          ms.get(kernels)!.push(performance.now() - start);
        }
        const start = performance.now();
        copyOf.slice();
        copyMs.push(performance.now() - start);
      }
      for (const kernels of order) {
        const value = median(ms.get(kernels)!);
        const percent = 100 * median(copyMs) / value;
        rows.push({ what: `${what}, ms`, kernels, value });
        rows.push({ what: `${what}, % of a copy's speed`, kernels, value: percent });
        console.log(
          `${kernels.padEnd(5)} ${what.padEnd(48)} ${value.toFixed(2)} ms, ${
            percent.toFixed(1)
          }% of a copy's speed`,
        );
      }
    };
    await both("plain copy (TypedArray.set), ms", () => timeMs(() => copy.set(source!)));
    interleaved("addInto, 1 MiB segments", () => ringReduce(target!, source!), 7, source!);
    await both(
      `shared-memory all-reduce, ${settings.ranks} ranks in one thread, ms`,
      () => sharedReduceMs(inputs),
    );
    for (const [d, codeValues] of qsgdInputs) {
      for (const bits of [2, 3, 4, 8]) {
        const codec = createCodec(qsgd({ bits }), { d, steps: 1 });
        const decoded = new Float64Array(d);
        const context = { step: 0, random: randomStream(0, "kernels-bench") };
        const code = codec.encode(codeValues, context);
        const name = `qsgd ${bits} bits, d = ${d / 1e6}M`;
        const reps = d > 1e6 ? 5 : 11;
        interleaved(`${name} encode`, () => codec.encode(codeValues, context), reps, codeValues);
        interleaved(`${name} decode`, () => codec.addDecoded(code, decoded, 1), reps, codeValues);
        interleaved(
          `${name} encode+decode`,
          () => codec.addDecoded(codec.encode(codeValues, context), decoded, 1),
          reps,
          codeValues,
        );
        // The compressed mean's decode (compressed_mean.ts): ranks' codes into one float64 sum
        // and the float32 mean, through Codec.meanOf where the kernels run it.
        const mean = (codes: Uint8Array[]) => {
          if (codec.meanOf?.(codes, codes.length) !== undefined) return;
          const sum = new Float64Array(d);
          for (const each of codes) codec.addDecoded(each, sum, 1);
          const out = new Float32Array(d);
          for (let j = 0; j < d; j++) out[j] = sum[j]! / codes.length;
        };
        interleaved(
          `${name} mean of 4 codes`,
          () => mean([code, code, code, code]),
          reps,
          codeValues,
        );
        interleaved(
          `${name} encode + mean of 1 code`,
          () => mean([codec.encode(codeValues, context)]),
          reps,
          codeValues,
        );
      }
    }
    if (settings.allReduce) {
      const results = new Map<Kernels, AllReduceResult[]>();
      for (const kernels of order) {
        const report = await benchAllReduce({
          sizes: [floats * 4],
          ranks: [settings.ranks],
          launches: ["threads", "processes"],
          rawBytes: 0,
          kernels,
        });
        for (const result of report.results) {
          if (!result.correct) throw new Error(`A wrong all-reduce: ${result.wrong}`);
          if (result.kernels !== (kernels === "js" ? "js" : "wasm-simd")) {
            throw new Error(`The ranks reduced with ${result.kernels}, not ${kernels}`);
          }
        }
        results.set(kernels, report.results as AllReduceResult[]);
      }
      for (const [kernels, list] of results) {
        for (const result of list) {
          const name = `all-reduce, ${result.launch} (${result.path})`;
          for (const [what, value] of [["CPU", result.cpuSeconds], ["time", result.seconds]]) {
            rows.push({ what: `${name}: ${what}, ms`, kernels, value: (value as number) * 1000 });
            console.log(
              `${kernels.padEnd(5)} ${`${name}: ${what}, ms`.padEnd(56)} ${
                ((value as number) * 1000).toFixed(2)
              }`,
            );
          }
        }
      }
    }
    console.log();
  }
  console.log(
    `## medians over ${settings.rounds} rounds: js, wasm, and the kernels' gain (above 1: faster)\n`,
  );
  for (const what of new Set(rows.map((row) => row.what))) {
    const [js, wasm] = KERNELS.map((k) =>
      median(rows.filter((r) => r.what === what && r.kernels === k).map((r) => r.value))
    );
    // Times: less is better; percentages of a copy's speed: more is.
    const gain = what.includes("%") ? wasm! / js! : js! / wasm!;
    console.log(`${what.padEnd(58)} ${js!.toFixed(2)}  ${wasm!.toFixed(2)}  ${gain.toFixed(2)}×`);
  }
  selectKernels("auto");
}
