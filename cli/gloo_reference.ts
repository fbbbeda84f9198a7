/**
 * PyTorch's Gloo all-reduce, measured as `gossamer bench allreduce` measures its own
 * (`bench/gloo_allreduce.py`: a barrier, one timed all-reduce, the slowest rank per iteration, the
 * median over iterations, every element checked), so that a user can compare both on their own
 * machines in one run. Needs a Python with PyTorch (Debian: `apt-get install -y python3-torch`).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import type { AllReduceResult } from "../runtime/comm/bench/allreduce_bench.ts";

/** One Gloo result, in the fields and units of gossamer's. */
export type GlooResult =
  & Omit<AllReduceResult, "floats" | "launch" | "path" | "wrong" | "kernels">
  & { readonly launch: "processes"; readonly path: "gloo" };

const SCRIPT = fileURLToPath(new URL("../bench/gloo_allreduce.py", import.meta.url));

/**
 * Pythons to try: `$GLOO_PYTHON` alone when set; else `python3` on the path, then the system's (a
 * pyenv or virtual environment on the path often lacks Debian's python3-torch).
 */
function pythons(): string[] {
  const chosen = Deno.env.get("GLOO_PYTHON");
  return chosen === undefined ? ["python3", "/usr/bin/python3"] : [chosen];
}

/** A port nothing listens on now, for Gloo's rendezvous. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Measures Gloo's all-reduce.
 *
 * @param sizes Vector sizes in bytes.
 * @param ranks World sizes.
 * @param iterations The fewest timed iterations per size (as gossamer's).
 * @returns The results, or null when no Python here has PyTorch.
 * @throws {Error} When the script fails for another reason, with the end of its output.
 */
export async function measureGloo(
  sizes: readonly number[],
  ranks: readonly number[],
  iterations = 5,
): Promise<GlooResult[] | null> {
  for (const python of pythons()) {
    let output: Deno.CommandOutput;
    try {
      output = await new Deno.Command(python, {
        args: [
          SCRIPT,
          "--sizes",
          sizes.join(","),
          "--ranks",
          ranks.join(","),
          "--iterations",
          String(iterations),
          "--port",
          String(freePort()),
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch {
      continue; // no such Python
    }
    if (!output.success) {
      const error = new TextDecoder().decode(output.stderr);
      if (/No module named 'torch'/.test(error)) continue;
      throw new Error(`Gloo's benchmark failed under ${python}: ${error.trim().slice(-1000)}`);
    }
    return new TextDecoder().decode(output.stdout).trim().split("\n").map((line) =>
      JSON.parse(line) as GlooResult
    );
  }
  return null;
}
