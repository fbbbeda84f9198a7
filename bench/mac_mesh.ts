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

import { table } from "../report/format.ts";
import { busBandwidth, median } from "../runtime/comm/bench/allreduce_bench.ts";
import { meshOfThreads, parseMeshSettings, slowestAllReduceMs } from "./_mesh.ts";

const MIB = 1024 * 1024;

/** The 1-minute load average. */
function load(): string {
  return Deno.loadavg()[0]!.toFixed(2);
}

if (import.meta.main) {
  const settings = parseMeshSettings(Deno.args, { mib: 32, iterations: 7, ranks: [2, 4] });
  const bytes = settings.mib * MIB;
  const rows: string[][] = [];
  const loadBefore = load();
  for (const n of settings.ranks) {
    const meshes = [await meshOfThreads(n), await meshOfThreads(n, {}, { macFrames: true })];
    try {
      const data = meshes.map((comms) =>
        comms.map((comm) => new Float32Array(bytes / 4).fill(comm.rank + 1))
      );
      // Warm-up: connections, buffers, JIT.
      for (const [i, comms] of meshes.entries()) await slowestAllReduceMs(comms, data[i]!);
      const times: number[][] = [[], []];
      for (let turn = 0; turn < settings.iterations; turn++) {
        for (const [i, comms] of meshes.entries()) {
          times[i]!.push(await slowestAllReduceMs(comms, data[i]!));
        }
      }
      const plainBus = [] as number[];
      for (const [i, label] of ["TCP", "TCP + MAC"].entries()) {
        const ms = median(times[i]!);
        const algbw = bytes / (ms / 1000) / 1e9;
        const busbw = busBandwidth(algbw, n);
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
  console.log(
    `All-reduce over the mesh on loopback, with and without frame MACs, in turns; ${Deno.build.os}, ${navigator.hardwareConcurrency} cores, load ${loadBefore} before, ${load()} after`,
  );
  console.log(table(header, rows));
}
