/**
 * The count sketch's update and estimates (`CountSketch`, issue 23) against the row-by-row code
 * they replaced (`_count_sketch_reference.ts`), as a percentage of a plain copy's speed (the
 * issue's measure: the copy's time over the loop's), at d = 1M and 10M: the reference, the
 * current JavaScript loops (`accumulateJs`, `estimatesJs`) and the selected kernels (WebAssembly
 * SIMD where it runs). Within a round they and a copy of the vector (`values.slice()`, as in
 * `bench/kernels_bench.ts`) alternate call by call, so all see the same machine; the load
 * average is printed with each round.
 *
 * Run: `deno run -A bench/sketch_bench.ts [--rounds 3] [--rows 5] [--cols 10000]`
 *
 * @module
 */

import { CountSketchReference } from "../runtime/compressors/_count_sketch_reference.ts";
import { CountSketch } from "../runtime/compressors/sketched_sgd.ts";
import { kernelSelection } from "../runtime/kernels/vector_kernels.ts";
import { randomStream } from "../runtime/random.ts";

interface Settings {
  rounds: number;
  rows: number;
  cols: number;
}

function parseSettings(args: readonly string[]): Settings {
  const settings: Settings = { rounds: 3, rows: 5, cols: 10_000 };
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i]!.slice(2);
    const value = Number(args[i + 1]);
    if (
      !(name in settings) || !args[i]!.startsWith("--") || !(Number.isInteger(value) && value > 0)
    ) {
      throw new Error(`Unknown option ${args[i]} ${args[i + 1]}: --rounds N, --rows N, --cols N`);
    }
    settings[name as keyof Settings] = value;
  }
  return settings;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >>> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Milliseconds of one call. */
function timed(f: () => void): number {
  const start = performance.now();
  f();
  return performance.now() - start;
}

/** One timed loop: its name and each variant's call. */
interface Loop {
  what: string;
  variants: [name: string, call: () => void][];
}

if (import.meta.main) {
  const { rounds, rows, cols } = parseSettings(Deno.args);
  console.log(
    `# count sketch ${rows} × ${cols}: ms per call and % of a copy's speed (the copy's time over the loop's)\n`,
  );
  const summary = new Map<string, { names: string[]; ms: number[][]; copy: number[] }>();
  const inputs = [1_000_000, 10_000_000].map((d) => {
    const random = randomStream(0, "sketch-bench", d);
    const values = Float32Array.from({ length: d }, () => random.normal());
    const reference = new CountSketchReference(rows, cols, d, 1);
    const current = new CountSketch(rows, cols, d, 1);
    const table = new Float32Array(rows * cols);
    current.accumulateJs(values, table);
    return { d, values, reference, current, table };
  });
  for (let round = 1; round <= rounds; round++) {
    console.log(`## round ${round} (load average ${Deno.loadavg().map((l) => l.toFixed(2))})`);
    for (const { d, values, reference, current, table } of inputs) {
      const reps = d > 1e6 ? 5 : 11;
      const fresh = () => new Float32Array(rows * cols);
      const loops: Loop[] = [
        {
          what: "update",
          variants: [
            ["reference", () => reference.accumulate(values, fresh())],
            ["js", () => current.accumulateJs(values, fresh())],
            [kernelSelection().kernels, () => current.accumulate(values, fresh())],
          ],
        },
        {
          what: "estimates",
          variants: [
            ["reference", () => reference.estimates(table)],
            ["js", () => current.estimatesJs(table)],
            [current.estimatesKernels, () => current.estimates(table)],
          ],
        },
      ];
      for (const { what, variants } of loops) {
        const ms: number[][] = variants.map(() => []);
        const copies: number[] = [];
        for (let i = 0; i < reps; i++) {
          // Which goes first rotates; a copy is timed after each.
          for (let k = 0; k < variants.length; k++) {
            const which = (i + k) % variants.length;
            ms[which]!.push(timed(variants[which]![1]));
            copies.push(timed(() => values.slice()));
          }
        }
        const medians = ms.map(median);
        const copyMs = median(copies);
        const name = `${what}, d = ${d / 1e6}M`;
        const entry = summary.get(name) ??
          { names: variants.map(([n]) => n), ms: variants.map(() => []), copy: [] };
        medians.forEach((value, k) => entry.ms[k]!.push(value));
        entry.copy.push(copyMs);
        summary.set(name, entry);
        console.log(`${name.padEnd(20)} ${describe(entry.names, medians, copyMs)}`);
      }
    }
    console.log();
  }
  console.log(`## medians over ${rounds} rounds (of each round's medians)\n`);
  for (const [name, { names, ms, copy }] of summary) {
    console.log(`${name.padEnd(20)} ${describe(names, ms.map(median), median(copy))}`);
  }
}

/** `reference 16.0 ms (11.1%), js …, wasm-simd … (copy 1.6 ms)`. */
function describe(names: string[], ms: number[], copyMs: number): string {
  const parts = names.map((name, k) =>
    `${name} ${ms[k]!.toFixed(1)} ms (${(100 * copyMs / ms[k]!).toFixed(1)}%)`
  );
  return `${parts.join(", ")}; copy ${copyMs.toFixed(1)} ms`;
}
