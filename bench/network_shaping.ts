/**
 * Real-time shaping of the declared network: the rate a TCP transport achieves on loopback when
 * the plan declares a link bandwidth, against the declared rate. Rank 0 sends 256 KiB messages
 * to rank 1 back to back; the time runs from the first send to the last receive, and the rate
 * counts the bytes on the wire (frame headers included). A second table measures the same
 * through the communication threads a worker uses (a broadcast, with its copies in and out of
 * shared memory and the result's copy).
 *
 * Run: `deno run -A bench/network_shaping.ts` (part of `deno task bench`).
 *
 * @module
 */

import { network } from "../dsl/network.ts";
import { LinkSchedule } from "../runtime/network/links.ts";
import { connectTcpMesh, listenTcp } from "../runtime/comm/tcp_transport.ts";
import { startCommThread } from "../runtime/comm/threaded_communicator.ts";
import { table } from "../report/format.ts";

const CASES = [["100Mbit", 12.5], ["400Mbit", 25], ["1Gbit", 50]] as const;
const SEGMENT = 256 * 1024;

/** One row: declared, sent, seconds, achieved, share of declared. */
function row(bandwidth: string, megabytes: number, seconds: number, bytes: number, bps: number) {
  const achieved = bytes * 8 / seconds;
  return [
    bandwidth,
    `${megabytes} MB`,
    seconds.toFixed(3),
    `${(achieved / 1e6).toFixed(1)} Mbit/s`,
    `${(100 * achieved / bps).toFixed(1)}%`,
  ];
}

const transportRows: string[][] = [];
for (const [bandwidth, megabytes] of CASES) {
  const net = network({ bandwidth, latency: "1ms" });
  const opened = [listenTcp(), listenTcp()];
  const addresses = opened.map((each) => each.address);
  const [a, b] = await Promise.all(opened.map((each, rank) =>
    connectTcpMesh({
      rank,
      size: 2,
      listener: each.listener,
      addresses,
      shaper: new LinkSchedule(net, rank, 0),
    })
  ));
  try {
    const messages = Math.round(megabytes * 1e6 / SEGMENT);
    const payload = new Uint8Array(SEGMENT);
    const start = performance.now();
    await Promise.all([
      (async () => {
        for (let i = 0; i < messages; i++) await a!.send(1, 0, payload, "base");
      })(),
      (async () => {
        for (let i = 0; i < messages; i++) await b!.recv(0, 0);
      })(),
    ]);
    const seconds = (performance.now() - start) / 1000;
    transportRows.push(
      row(bandwidth, megabytes, seconds, a!.stats().sent.base, net.bandwidthBitsPerSecond!),
    );
  } finally {
    await Promise.all([a!.close(), b!.close()]);
  }
}
console.log("Shaping by the TCP transport on loopback: rank 0 sends to rank 1, 1 ms latency");
console.log(table(["declared", "sent", "seconds", "achieved", "of declared"], transportRows));

const threadRows: string[][] = [];
for (const [bandwidth, megabytes] of CASES) {
  const net = network({ bandwidth, latency: "1ms" });
  const threads = await Promise.all([startCommThread(), startCommThread()]);
  const addresses = threads.map((thread) => thread.address);
  const comms = await Promise.all(
    threads.map((thread, rank) => thread.connect({ rank, size: 2, addresses, network: net })),
  );
  try {
    const start = performance.now();
    await Promise.all(
      comms.map((comm) => comm.broadcast(new Float32Array(megabytes * 1e6 / 4), 0, "base")),
    );
    const seconds = (performance.now() - start) / 1000;
    threadRows.push(
      row(bandwidth, megabytes, seconds, comms[0]!.stats().sent.base, net.bandwidthBitsPerSecond!),
    );
  } finally {
    await Promise.all(comms.map((comm) => comm.close()));
  }
}
console.log("\nThrough the communication threads: a broadcast from rank 0 to rank 1");
console.log(table(["declared", "sent", "seconds", "achieved", "of declared"], threadRows));
