/**
 * gossamer's transformer training step beside PyTorch's on the CPU, same shapes (the demo model,
 * see `transformer_step.ts` and `transformer_step_torch.py`), in interleaved rounds so that both
 * see the same machine: each round runs gossamer on WASM (one thread, as one worker runs),
 * PyTorch with one thread, and PyTorch with its default threads, each in its own process, and
 * prints the load average before each. The summary gives the median tokens/s of each over the
 * rounds and gossamer's ratio to each PyTorch setting. The Python is `$TORCH_PYTHON` when set,
 * else the first of `python3` and `/usr/bin/python3` that imports torch (a pyenv or virtual
 * environment on the path often lacks Debian's `python3-torch`); without one, only gossamer is
 * measured, and the output says so.
 *
 * Run: `deno run -A bench/transformer_step_compare.ts [--rounds 3] [--steps 20] [--d-model 64]`
 * (64: the demo's width; 128 the wider model).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { torchPython } from "./_torch_python.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "3" },
    steps: { type: "string", default: "20" },
    "d-model": { type: "string", default: "64" },
  },
});
const width = ["--d-model", values["d-model"]];
const rounds = Number(values.rounds);
const steps = values.steps;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** One measurement's JSON line. */
interface StepResult {
  readonly implementation: string;
  /** Threads asked for: a count, or `"default"`. */
  readonly threads: number | string;
  readonly msPerStep: number;
  readonly tokensPerSecond: number;
  /** PyTorch's BLAS library. */
  readonly blas?: string;
}

/** Runs a command and parses its last stdout line; says why in words when it cannot. */
async function measure(command: string, args: string[]): Promise<StepResult | string> {
  try {
    const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" })
      .output();
    if (!output.success) {
      const error = new TextDecoder().decode(output.stderr).trim().split("\n").at(-1);
      return `${command} failed: ${error}`;
    }
    const lines = new TextDecoder().decode(output.stdout).trim().split("\n");
    return JSON.parse(lines.at(-1)!) as StepResult;
  } catch (error) {
    return `${command} could not run: ${error instanceof Error ? error.message : error}`;
  }
}

const python = await torchPython() ?? "python3";

const runs = {
  "gossamer wasm, 1 thread": () =>
    measure(Deno.execPath(), [
      "run",
      "-A",
      here("./transformer_step.ts"),
      "--steps",
      steps,
      ...width,
      "--json",
    ]),
  "pytorch cpu, 1 thread": () =>
    measure(python, [
      here("./transformer_step_torch.py"),
      "--threads",
      "1",
      "--steps",
      steps,
      ...width,
      "--json",
    ]),
  "pytorch cpu, default threads": () =>
    measure(python, [
      here("./transformer_step_torch.py"),
      "--threads",
      "0",
      "--steps",
      steps,
      ...width,
      "--json",
    ]),
};

const results = new Map<string, number[]>(Object.keys(runs).map((name) => [name, []]));
const missing = new Map<string, string>();
for (let round = 1; round <= rounds; round++) {
  console.log(`round ${round}/${rounds}`);
  for (const [name, run] of Object.entries(runs)) {
    const load = Deno.loadavg().map((v) => v.toFixed(2)).join(" ");
    const result = await run();
    if (typeof result === "string") {
      missing.set(name, result);
      console.log(`  ${name.padEnd(30)} not measured (load ${load}): ${result}`);
      continue;
    }
    results.get(name)!.push(result.tokensPerSecond);
    console.log(
      `  ${name.padEnd(30)} ${result.tokensPerSecond.toFixed(0).padStart(7)} tokens/s, ${
        result.msPerStep.toFixed(1)
      } ms/step, threads ${result.threads}${
        result.blas === undefined ? "" : `, ${result.blas}`
      } (load average before: ${load})`,
    );
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`\nmedian tokens/s over ${rounds} rounds (${navigator.hardwareConcurrency} cores):`);
const ours = median(results.get("gossamer wasm, 1 thread")!);
for (const [name, list] of results) {
  if (list.length === 0) {
    console.log(`  ${name.padEnd(30)} not measured: ${missing.get(name)}`);
    continue;
  }
  const value = median(list);
  const ratio = name.startsWith("gossamer") ? "" : `  (gossamer at ${(ours / value).toFixed(2)}×)`;
  console.log(`  ${name.padEnd(30)} ${value.toFixed(0).padStart(7)}${ratio}`);
}
