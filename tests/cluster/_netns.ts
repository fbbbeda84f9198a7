/**
 * Network namespaces for tests (`scripts/netns.sh`): whether this host can make them, a set
 * made for one test and always removed, and processes started inside one.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { ROOT } from "../_cli.ts";
import { spawnCollected, type Started, TEST_SECRET } from "../runtime/_processes.ts";
import { messageOf } from "../../runtime/errors.ts";

const SCRIPT = fileURLToPath(new URL("scripts/netns.sh", ROOT));

/** A namespace of a set: its name and address. */
export interface Namespace {
  readonly name: string;
  readonly address: string;
}

/** Runs a command, returning its exit code and output (never throwing for a missing program). */
function runSync(program: string, args: string[]): { ok: boolean; output: string } {
  try {
    const output = new Deno.Command(program, { args, stdout: "piped", stderr: "piped" })
      .outputSync();
    const decoder = new TextDecoder();
    return {
      ok: output.success,
      output: (decoder.decode(output.stdout) + decoder.decode(output.stderr)).trim(),
    };
  } catch (error) {
    return { ok: false, output: messageOf(error) };
  }
}

/**
 * Why this host cannot run the namespace tests, or `null` when it can: they need root, `ip`
 * and `tc`, and a kernel that lets this process make namespaces with a tbf qdisc (a probe set
 * is made and removed).
 */
export function namespaceTestsBlocked(): string | null {
  if (Deno.build.os !== "linux") return `network namespaces are Linux's (this is ${Deno.build.os})`;
  if (Deno.uid() !== 0) return `needs root (running as uid ${Deno.uid()})`;
  for (const tool of ["ip", "tc"]) {
    if (!runSync("sh", ["-c", `command -v ${tool}`]).ok) return `needs ${tool} (iproute2)`;
  }
  const probe = uniquePrefix();
  const made = runSync("bash", [SCRIPT, "up", probe, "1mbit"]);
  runSync("bash", [SCRIPT, "down", probe]);
  return made.ok ? null : `cannot make a shaped network namespace here: ${made.output}`;
}

/** A prefix no other test (or run) uses: `g` and 7 random hex digits. */
export function uniquePrefix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return "g" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, 7);
}

/**
 * Makes one namespace per rate, runs `body`, and removes them all, also when `body` throws.
 *
 * @param rates Each namespace's egress rate (tc units, such as `20mbit`).
 * @param body The test, given the namespaces in order.
 * @returns What `body` returns.
 */
export async function withNamespaces<T>(
  rates: readonly string[],
  body: (namespaces: Namespace[]) => Promise<T>,
): Promise<T> {
  const prefix = uniquePrefix();
  try {
    const up = await new Deno.Command("bash", {
      args: [SCRIPT, "up", prefix, ...rates],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    if (!up.success) throw new Error(`netns.sh up failed: ${decoder.decode(up.stderr)}`);
    const namespaces = decoder.decode(up.stdout).trim().split("\n").map((line) => {
      const [name, address] = line.split(" ");
      return { name: name!, address: address! };
    });
    return await body(namespaces);
  } finally {
    const down = await new Deno.Command("bash", { args: [SCRIPT, "down", prefix] }).output();
    if (!down.success) console.error(`netns.sh down ${prefix} failed`);
  }
}

/**
 * Starts `deno run -A …args` inside a namespace, in the repository root.
 *
 * @param namespace The namespace.
 * @param env Extra environment variables.
 * @param args Arguments after `deno run -A --quiet`.
 * @returns The process and its collected output.
 */
export function startIn(
  namespace: Namespace,
  env: Record<string, string>,
  args: string[],
): Started {
  return spawnCollected(
    "ip",
    ["netns", "exec", namespace.name, Deno.execPath(), "run", "-A", "--quiet", ...args],
    env,
  );
}

/**
 * Starts `gossamer worker` inside a namespace, placed by gossamer's variables, with the test
 * secret.
 *
 * @param namespace The namespace.
 * @param place The process's rank, the number of processes and the rendezvous `host:port`.
 * @param args The worker's arguments after `worker`.
 * @returns The process and its collected output.
 */
export function startWorkerIn(
  namespace: Namespace,
  place: { rank: number; world: number; rendezvous: string },
  args: string[],
): Started {
  return startIn(namespace, {
    GOSSAMER_SECRET: TEST_SECRET,
    GOSSAMER_RANK: String(place.rank),
    GOSSAMER_WORLD: String(place.world),
    GOSSAMER_RENDEZVOUS: place.rendezvous,
  }, ["cli.ts", "worker", ...args]);
}
