/**
 * Streaming DiLoCo's pseudo-gradient quantizer (`encodePseudoGradient`, `decodePseudoGradient`)
 * against a plain copy of the float64 pseudo-gradient, call by call in interleaved rounds, with
 * the load average printed each round: the time of each and the copy's time over it in % (issue
 * 23's measure).
 *
 * Run: `deno run -A bench/pseudo_gradient_bench.ts [--rounds 3] [--reps 5]`
 *
 * @module
 */

import {
  decodePseudoGradient,
  encodePseudoGradient,
} from "../runtime/algorithms/streaming_diloco.ts";
import { median } from "../runtime/comm/bench/allreduce_bench.ts";
import { randomStream } from "../runtime/random.ts";

function option(name: string, fallback: number): number {
  const at = Deno.args.indexOf(`--${name}`);
  const value = at < 0 ? fallback : Number(Deno.args[at + 1]);
  if (!(Number.isInteger(value) && value > 0)) throw new Error(`--${name} takes a count`);
  return value;
}

if (import.meta.main) {
  const rounds = option("rounds", 3);
  const reps = option("reps", 5);
  console.log(`# pseudo-gradient quantizer vs a copy; medians of ${reps} calls per round\n`);
  const results = new Map<string, number[]>();
  const vectors = [1_000_000, 10_000_000].map((d) => {
    const random = randomStream(0, "pseudo-gradient-bench", d);
    return Float64Array.from({ length: d }, () => random.normal() * 1e-3);
  });
  for (let round = 1; round <= rounds; round++) {
    console.log(`## round ${round} (load average ${Deno.loadavg().map((l) => l.toFixed(2))})\n`);
    for (const delta of vectors) {
      for (const bits of [4, 8]) {
        const code = encodePseudoGradient(delta, bits);
        const name = `${bits} bits, d = ${delta.length / 1e6}M`;
        const ms = { encode: [] as number[], decode: [] as number[], copy: [] as number[] };
        for (let i = 0; i < reps; i++) {
          for (const what of ["encode", "decode", "copy"] as const) {
            const start = performance.now();
            if (what === "encode") encodePseudoGradient(delta, bits);
            else if (what === "decode") decodePseudoGradient(code, delta.length, bits);
            else delta.slice();
            ms[what].push(performance.now() - start);
          }
        }
        const copy = median(ms.copy);
        for (const what of ["encode", "decode"] as const) {
          const value = median(ms[what]);
          const percent = 100 * copy / value;
          results.set(`${name} ${what}`, [...results.get(`${name} ${what}`) ?? [], percent]);
          console.log(
            `${`${name} ${what}`.padEnd(26)} ${value.toFixed(1).padStart(7)} ms, ` +
              `${percent.toFixed(1).padStart(5)}% of a copy's speed (copy ${copy.toFixed(1)} ms)`,
          );
        }
      }
    }
    console.log();
  }
  console.log(`## medians over ${rounds} rounds: % of a copy's speed\n`);
  for (const [what, percents] of results) {
    console.log(`${what.padEnd(26)} ${median(percents).toFixed(1)}%`);
  }
}
