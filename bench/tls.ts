/**
 * All-reduce throughput of the TCP mesh with and without TLS, on loopback: each rank's
 * collectives run on its own communication thread (`runtime/comm/comm_thread.ts`), as in a
 * real run, with the run's authenticated handshake on every connection either way; the only
 * difference between the two rows of a size is `Deno.listenTls`/`Deno.connectTls` under the
 * frames.
 *
 * Certificates: the bench makes a throw-away CA and a certificate it signs for `127.0.0.1`
 * and `localhost` (EC P-256) with `openssl` in a temporary folder, removed at the end, as the
 * TLS tests do (`tests/security/_tls.ts`); rustls
 * (Deno's TLS) refuses a self-signed certificate that is its own CA as an end-entity
 * certificate, hence the two steps. Without `openssl` on `PATH` the bench says so and stops.
 *
 * Throughput follows nccl-tests: `algbw = bytes / time` with `time` the median over iterations
 * of the slowest rank's all-reduce time as its communication thread measured it, and
 * `busbw = algbw · 2(n−1)/n`, the bytes each rank moved per second.
 *
 * Run: `deno run -A bench/tls.ts [--mib 32] [--iterations 5] [--ranks 2,4]`.
 *
 * @module
 */

import type { ThreadedCommunicator } from "../runtime/comm/threaded_communicator.ts";
import type { TlsPem } from "../runtime/comm/net.ts";
import { hasOpenssl, makeCertificates } from "../tests/security/_tls.ts";
import { table } from "../report/format.ts";
import { busBandwidth } from "../runtime/comm/bench/allreduce_bench.ts";
import { meshOfThreads, parseMeshSettings, slowestAllReduceMs } from "./_mesh.ts";

const MIB = 1024 * 1024;

/**
 * A CA and a certificate it signed for 127.0.0.1, as PEM text (the TLS tests' certificates);
 * `null` without openssl.
 */
async function certificates(): Promise<TlsPem | null> {
  if (!await hasOpenssl()) return null;
  const files = await makeCertificates();
  try {
    return {
      cert: await Deno.readTextFile(files.cert),
      key: await Deno.readTextFile(files.key),
      caCerts: [await Deno.readTextFile(files.ca)],
    };
  } finally {
    await Deno.remove(files.folder, { recursive: true });
  }
}

/** Forms a mesh of `n` communication threads, over TLS when `tls` is given. */
function mesh(n: number, tls: TlsPem | null): Promise<ThreadedCommunicator[]> {
  return tls === null ? meshOfThreads(n) : meshOfThreads(
    n,
    { tls: { cert: tls.cert!, key: tls.key! } },
    { tls: { caCerts: tls.caCerts! } },
  );
}

/** The median of the slowest rank's all-reduce times, ms. */
async function measure(comms: ThreadedCommunicator[], floats: number, iterations: number) {
  const data = comms.map((comm) => new Float32Array(floats).fill(comm.rank + 1));
  const once = () => slowestAllReduceMs(comms, data);
  await once(); // warm-up: connections, buffers, JIT
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

if (import.meta.main) {
  const settings = parseMeshSettings(Deno.args, { mib: 32, iterations: 5, ranks: [2, 4] });
  const tls = await certificates();
  if (tls === null) {
    console.error("bench/tls.ts needs openssl on PATH to make its certificates");
    Deno.exit(1);
  }
  const bytes = settings.mib * MIB;
  const rows: string[][] = [];
  for (const n of settings.ranks) {
    const plainBus: number[] = [];
    for (const secured of [false, true]) {
      const comms = await mesh(n, secured ? tls : null);
      try {
        const ms = await measure(comms, bytes / 4, settings.iterations);
        const algbw = bytes / (ms / 1000) / 1e9;
        const busbw = busBandwidth(algbw, n);
        if (!secured) plainBus.push(busbw);
        rows.push([
          String(n),
          secured ? "TLS" : "TCP",
          `${settings.mib} MiB`,
          ms.toFixed(1),
          algbw.toFixed(3),
          busbw.toFixed(3),
          secured ? `${(100 * busbw / plainBus[0]!).toFixed(0)}%` : "100%",
        ]);
      } finally {
        await Promise.all(comms.map((comm) => comm.close()));
      }
    }
  }
  const header = ["ranks", "transport", "size", "time ms", "algbw GB/s", "busbw GB/s", "of TCP"];
  console.log(
    `All-reduce over the mesh on loopback, ${Deno.build.os}, ${navigator.hardwareConcurrency} cores`,
  );
  console.log(table(header, rows));
}
