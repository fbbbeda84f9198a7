/**
 * What authenticating every mesh frame costs (`--mac-mesh`, `runtime/comm/frame_mac.ts`): the
 * all-reduce throughput of the TCP mesh on loopback with and without a MAC after every frame.
 * Each rank's collectives run on its own communication thread, as in a real run, with the run's
 * authenticated handshake on every connection either way; the only difference between the two
 * meshes of a size is the 16-byte HMAC-SHA256 tag that follows each frame, computed over every
 * byte sent and checked over every byte received.
 *
 * Both meshes are formed once and measured in turns (plain, MAC, plain, MAC, …), so a change of
 * load on a shared machine falls on both; the load average before and after is printed with
 * the table. Throughput follows nccl-tests: `algbw = bytes / time` with `time` the median over
 * turns of the slowest rank's all-reduce time as its communication thread measured it, and
 * `busbw = algbw · 2(n−1)/n`.
 *
 * Run: `deno run -A bench/mac_mesh.ts [--mib 32] [--iterations 7] [--ranks 2,4]`.
 *
 * @module
 */

import {
  startCommThread,
  type ThreadedCommunicator,
} from "../runtime/comm/threaded_communicator.ts";

const MIB = 1024 * 1024;

interface Settings {
  mib: number;
  iterations: number;
  ranks: number[];
}

function parseSettings(args: readonly string[]): Settings {
  const settings: Settings = { mib: 32, iterations: 7, ranks: [2, 4] };
  for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1] ?? "";
    if (args[i] === "--mib") settings.mib = Number(value);
    else if (args[i] === "--iterations") settings.iterations = Number(value);
    else if (args[i] === "--ranks") settings.ranks = value.split(",").map(Number);
    else throw new Error(`Unknown option "${args[i]}": expected --mib, --iterations or --ranks`);
  }
  return settings;
}

/** Forms a mesh of `n` communication threads, with a MAC after every frame when `mac`. */
async function mesh(n: number, mac: boolean): Promise<ThreadedCommunicator[]> {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const runId = crypto.getRandomValues(new Uint8Array(16));
  const threads = await Promise.all(Array.from({ length: n }, () => startCommThread()));
  const addresses = threads.map((thread) => thread.address);
  return await Promise.all(
    threads.map((thread, rank) =>
      thread.connect({ rank, size: n, addresses, secret, runId, macFrames: mac })
    ),
  );
}

/** One all-reduce of `data` on every rank: the slowest rank's time, ms. */
async function once(comms: ThreadedCommunicator[], data: Float32Array[]): Promise<number> {
  await Promise.all(comms.map((comm) => comm.barrier()));
  const pending = comms.map((comm, rank) => comm.allReduceMeanStart(data[rank]!, "base"));
  await Promise.all(pending.map((each) => each.wait()));
  return Math.max(...pending.map((each) => each.elapsedMs()!));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** The 1-minute load average, or `?` where /proc is not there. */
function load(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ")[0]!;
  } catch {
    return "?";
  }
}

if (import.meta.main) {
  const settings = parseSettings(Deno.args);
  const bytes = settings.mib * MIB;
  const rows: string[][] = [];
  const loadBefore = load();
  for (const n of settings.ranks) {
    const meshes = [await mesh(n, false), await mesh(n, true)];
    try {
      const data = meshes.map((comms) =>
        comms.map((comm) => new Float32Array(bytes / 4).fill(comm.rank + 1))
      );
      // Warm-up: connections, buffers, JIT.
      for (const [i, comms] of meshes.entries()) await once(comms, data[i]!);
      const times: number[][] = [[], []];
      for (let turn = 0; turn < settings.iterations; turn++) {
        for (const [i, comms] of meshes.entries()) times[i]!.push(await once(comms, data[i]!));
      }
      const plainBus = [] as number[];
      for (const [i, label] of ["TCP", "TCP + MAC"].entries()) {
        const ms = median(times[i]!);
        const algbw = bytes / (ms / 1000) / 1e9;
        const busbw = algbw * 2 * (n - 1) / n;
        plainBus.push(busbw);
        rows.push([
          String(n),
          label,
          `${settings.mib} MiB`,
          ms.toFixed(1),
          algbw.toFixed(3),
          busbw.toFixed(3),
          `${(100 * busbw / plainBus[0]!).toFixed(0)}%`,
        ]);
      }
    } finally {
      await Promise.all(meshes.flat().map((comm) => comm.close()));
    }
  }
  const header = ["ranks", "frames", "size", "time ms", "algbw GB/s", "busbw GB/s", "of TCP"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd();
  console.log(
    `All-reduce over the mesh on loopback, with and without frame MACs, in turns; ${Deno.build.os}, ${navigator.hardwareConcurrency} cores, load ${loadBefore} before, ${load()} after`,
  );
  console.log(line(header));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of rows) console.log(line(row));
}
