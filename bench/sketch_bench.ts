/**
 * The count sketch's update and estimates (`CountSketch`, issue 23) against the row-by-row code
 * they replaced (`_count_sketch_reference.ts`), as a percentage of a plain copy's speed (the
 * issue's measure: the copy's time over the loop's), at d = 1M and 10M. Within a round the
 * reference, the current code and a copy of the vector (`values.slice()`, as in
 * `bench/kernels_bench.ts`) alternate call by call, so all three see the same machine; the load
 * average is printed with each round.
 *
 * Run: `deno run -A bench/sketch_bench.ts [--rounds 3] [--rows 5] [--cols 10000]`
 *
 * @module
 */

import { CountSketchReference } from "../runtime/compressors/_count_sketch_reference.ts";
import { CountSketch } from "../runtime/compressors/sketched_sgd.ts";
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

if (import.meta.main) {
  const { rounds, rows, cols } = parseSettings(Deno.args);
  console.log(`# count sketch ${rows} × ${cols}: reference → current, % of a copy's speed\n`);
  const summary = new Map<string, number[][]>();
  const inputs = [1_000_000, 10_000_000].map((d) => {
    const random = randomStream(0, "sketch-bench", d);
    const values = Float32Array.from({ length: d }, () => random.normal());
    const reference = new CountSketchReference(rows, cols, d, 1);
    const current = new CountSketch(rows, cols, d, 1);
    const table = new Float32Array(rows * cols);
    current.accumulate(values, table);
    return { d, values, reference, current, table };
  });
  for (let round = 1; round <= rounds; round++) {
    console.log(`## round ${round} (load average ${Deno.loadavg().map((l) => l.toFixed(2))})`);
    for (const { d, values, reference, current, table } of inputs) {
      const reps = d > 1e6 ? 5 : 11;
      const loops = {
        update: [
          () => reference.accumulate(values, new Float32Array(rows * cols)),
          () => current.accumulate(values, new Float32Array(rows * cols)),
        ],
        estimates: [() => reference.estimates(table), () => current.estimates(table)],
      };
      for (const [what, [before, after]] of Object.entries(loops)) {
        const ms: number[][] = [[], [], []];
        for (let i = 0; i < reps; i++) {
          // Which of the two goes first alternates, the copy is timed between.
          const order = i % 2 === 0 ? [0, 1] : [1, 0];
          for (const which of order) ms[which]!.push(timed(which === 0 ? before! : after!));
          ms[2]!.push(timed(() => values.slice()));
        }
        const [beforeMs, afterMs, copyMs] = ms.map(median) as [number, number, number];
        const percent = [beforeMs, afterMs].map((value) => 100 * copyMs / value);
        const name = `${what}, d = ${d / 1e6}M`;
        const list = summary.get(name) ?? [];
        list.push([beforeMs, afterMs, copyMs, ...percent]);
        summary.set(name, list);
        console.log(
          `${name.padEnd(20)} ${beforeMs.toFixed(1)} → ${afterMs.toFixed(1)} ms (copy ${
            copyMs.toFixed(1)
          } ms): ${percent[0]!.toFixed(1)}% → ${percent[1]!.toFixed(1)}% of a copy's speed`,
        );
      }
    }
    console.log();
  }
  console.log(`## medians over ${rounds} rounds\n`);
  for (const [name, list] of summary) {
    const [beforeMs, afterMs, copyMs, beforePct, afterPct] = [0, 1, 2, 3, 4].map((i) =>
      median(list.map((row) => row[i]!))
    ) as [number, number, number, number, number];
    console.log(
      `${name.padEnd(20)} ${beforeMs.toFixed(1)} → ${afterMs.toFixed(1)} ms (${
        (beforeMs / afterMs).toFixed(2)
      }×; copy ${copyMs.toFixed(1)} ms): ${beforePct.toFixed(1)}% → ${
        afterPct.toFixed(1)
      }% of a copy's speed`,
    );
  }
}
