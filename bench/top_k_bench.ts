/**
 * Top-k selection and encode against a plain copy of the same vector (issue 23's measure: the
 * copy's time over the codec's, in %), with the fast selection on magnitude bits and with the
 * reference quickselect ({@linkcode selectTopK}), call by call in interleaved rounds (reference,
 * fast, copy; the order of the two flipped every other round) so that all see the same machine;
 * the load average is printed with each round. Both selections are checked to agree first. The
 * selection also runs on the same values as float64 (FetchSGD's and Sketched SGD's estimates),
 * beside a copy of the float64 vector.
 *
 * Run: `deno run -A bench/top_k_bench.ts [--rounds 3] [--reps 7] [--percent 1]`
 *
 * @module
 */

import { topK } from "../dsl/compressors/mod.ts";
import { createCodec } from "../runtime/compressors/registry.ts";
import {
  selectTopK,
  topKIndices,
  topKIndicesJs,
  type TopKSelection,
} from "../runtime/compressors/top_k.ts";
import { randomStream } from "../runtime/random.ts";
import { median } from "../runtime/comm/bench/allreduce_bench.ts";

interface Settings {
  rounds: number;
  reps: number;
  percent: number;
}

function parseSettings(args: readonly string[]): Settings {
  const settings: Settings = { rounds: 3, reps: 7, percent: 1 };
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i]!.slice(2);
    const value = Number(args[i + 1]);
    if (!(name in settings) || !args[i]!.startsWith("--") || !(value > 0)) {
      throw new Error(
        `Unknown option ${args[i]} ${args[i + 1]}: --rounds N, --reps N, --percent P`,
      );
    }
    settings[name as keyof Settings] = value;
  }
  return settings;
}

const SELECTIONS = ["reference", "fast"] as const;
type Row = { what: string; selection: TopKSelection | "copy"; ms: number };

if (import.meta.main) {
  const settings = parseSettings(Deno.args);
  console.log(
    `# top-k at ${settings.percent}%: reference quickselect vs fast selection vs a copy, ` +
      `${navigator.hardwareConcurrency} CPUs; medians of ${settings.reps} calls; interleaved\n`,
  );
  const inputs = [1_000_000, 10_000_000].map((d) => {
    const random = randomStream(0, "top-k-bench", d);
    const values = Float32Array.from({ length: d }, () => random.normal());
    const k = Math.round(d * settings.percent / 100);
    // FetchSGD's and Sketched SGD's estimates are float64: the same values, widened.
    const wide = Float64Array.from(values);
    for (const vector of [values, wide]) {
      const reference = topKIndicesJs(vector, k);
      const same = topKIndices(vector, k).every((j, i) => j === reference[i]);
      if (!same) throw new Error(`The selections disagree at d = ${d}, k = ${k}`);
    }
    return { d, k, values, wide, codec: createCodec(topK({ k }), { d, steps: 1 }) };
  });
  const context = { step: 0, random: randomStream(0, "top-k-bench") };
  const rows: Row[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    console.log(`## round ${round} (load average ${Deno.loadavg().map((l) => l.toFixed(2))})\n`);
    const order = round % 2 === 1 ? SELECTIONS : [...SELECTIONS].reverse();
    for (const { d, k, values, wide, codec } of inputs) {
      const tasks: [string, () => void, Float32Array | Float64Array][] = [
        [`select, d = ${d / 1e6}M`, () => topKIndices(values, k), values],
        [`encode, d = ${d / 1e6}M`, () => codec.encode(values, context), values],
        [`select f64, d = ${d / 1e6}M`, () => topKIndices(wide, k), wide],
      ];
      for (const [what, f, copied] of tasks) {
        const ms = new Map<TopKSelection | "copy", number[]>();
        for (let i = 0; i < settings.reps; i++) {
          for (const selection of [...order, "copy"] as const) {
            if (selection !== "copy") selectTopK(selection);
            const start = performance.now();
            if (selection === "copy") copied.slice();
            else f();
            ms.set(selection, [...ms.get(selection) ?? [], performance.now() - start]);
          }
        }
        const copyMs = median(ms.get("copy")!);
        rows.push({ what, selection: "copy", ms: copyMs });
        for (const selection of SELECTIONS) {
          const value = median(ms.get(selection)!);
          rows.push({ what, selection, ms: value });
          console.log(
            `${selection.padEnd(9)} ${what.padEnd(22)} ${value.toFixed(2).padStart(8)} ms, ` +
              `${(100 * copyMs / value).toFixed(1).padStart(5)}% of a copy's speed ` +
              `(copy ${copyMs.toFixed(2)} ms)`,
          );
        }
      }
    }
    console.log();
  }
  selectTopK("fast");
  console.log(`## medians over ${settings.rounds} rounds: ms, and % of a copy's speed\n`);
  for (const what of new Set(rows.map((row) => row.what))) {
    const of = (selection: Row["selection"]) =>
      median(rows.filter((r) => r.what === what && r.selection === selection).map((r) => r.ms));
    const copy = of("copy");
    const [reference, fast] = SELECTIONS.map(of);
    console.log(
      `${what.padEnd(22)} copy ${copy.toFixed(2)} ms; reference ${reference!.toFixed(2)} ms ` +
        `(${(100 * copy / reference!).toFixed(1)}%); fast ${fast!.toFixed(2)} ms ` +
        `(${(100 * copy / fast!).toFixed(1)}%); gain ${(reference! / fast!).toFixed(1)}×`,
    );
  }
}
