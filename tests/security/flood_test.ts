/**
 * A stranger's connect flood slows a run, never ends it (issue 20, item 1): connections opened
 * as fast as loops in the test process can open them, held silent, at a worker's mesh port while
 * the mesh forms and at the coordinator's port from the moment it listens until the run ends.
 * Members' handshakes that the flood interrupts are retried with backoff, and strangers are
 * evicted before members (least advanced first), so the mesh forms and the run completes with
 * parameters identical to an undisturbed run.
 */

import assert from "node:assert/strict";
import { type Flood, flood, listeningPortsOf } from "./_hostile.ts";
import { fileURLToPath as fromFileUrl } from "node:url";
import { ROOT } from "../_cli.ts";
import { connectTcpMesh, createCommunicator, listenTcp } from "../../runtime/comm/mod.ts";
import { run } from "../../mod.ts";
import {
  ConnectTimeoutError,
  dial,
  TlsHandshakeError,
  type TlsPem,
} from "../../runtime/comm/net.ts";
import { leastSquaresPlans, tempRunFolder } from "../runtime/_plans.ts";

/** Floods two of a 3-rank mesh's ports while it forms, then checks an exact all-reduce. */
async function floodedMesh(tls?: TlsPem): Promise<void> {
  const size = 3;
  const opened = Array.from({ length: size }, () => listenTcp(tls === undefined ? {} : { tls }));
  const addresses = opened.map((each) => each.address);
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const runId = crypto.getRandomValues(new Uint8Array(16));
  // The floods start before any worker dials and go on until the mesh has formed: rank 0
  // accepts under its flood, rank 1 dials rank 0 and accepts under its own, rank 2 dials both.
  const floods = [flood(addresses[0]!, { loops: 32 }), flood(addresses[1]!, { loops: 32 })];
  const connect = (rank: number) =>
    connectTcpMesh({
      rank,
      size,
      listener: opened[rank]!.listener,
      addresses,
      secret,
      runId,
      // An upper bound only: the mesh must form well within it.
      connectTimeoutMs: 60_000,
      warn: () => {},
      ...(tls === undefined ? {} : { tls }),
    });
  let transports;
  try {
    const connecting = [connect(0)];
    await floods[0]!.reached(300);
    connecting.push(connect(1));
    await floods[1]!.reached(300);
    connecting.push(connect(2));
    transports = await Promise.all(connecting);
  } finally {
    const counts = await Promise.all(floods.map((each) => each.stop()));
    for (const count of counts) {
      assert.ok(count >= 300, `the flood opened only ${count} connections`);
    }
  }
  try {
    const comms = transports.map((transport) => createCommunicator(transport));
    const sums = await Promise.all(
      comms.map((comm) =>
        comm.allReduceSum(Float32Array.of(comm.rank + 1, 10 * comm.rank), "base")
      ),
    );
    assert.deepEqual(sums.map((sum) => [...sum]), [[6, 30], [6, 30], [6, 30]]);
  } finally {
    await Promise.all(transports.map((transport) => transport.close()));
  }
}

Deno.test("a mesh forms and reduces exactly while strangers flood two of its workers' ports", () =>
  floodedMesh());

Deno.test("a TLS dial to a listener that never answers ends at its timeout, as an interruption", async () => {
  // What a listener that closed (or lost) the connection mid-handshake leaves a member facing:
  // without a bound it would wait for ever, and the mesh would never dial again.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const accepted = listener.accept();
  try {
    await assert.rejects(dial(`127.0.0.1:${port}`, { caCerts: [] }, 200), (error: unknown) => {
      assert.ok(error instanceof TlsHandshakeError);
      assert.equal(
        error.message,
        `TLS handshake with 127.0.0.1:${port} failed: it did not complete within 200 ms`,
      );
      assert.equal(error.interrupted, true);
      return true;
    });
  } finally {
    (await accepted).close();
    listener.close();
  }
});

Deno.test("a connect that a full accept queue drops ends at its bound, as an interruption to dial again", async () => {
  // A listener that accepts nothing: its kernel queue (511 here) fills, and the kernel then drops
  // new connections' first packets, as under a flood that outpaces the listener. Without a bound
  // a member would wait out the kernel's retransmissions (1, 3, 7, 15… s) before dialling again.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const address = `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  const held: Deno.Conn[] = [];
  try {
    let dropped: unknown = null;
    while (dropped === null && held.length < 100_000) {
      try {
        held.push(await dial(address, null, 5_000, 200));
      } catch (error) {
        dropped = error;
      }
    }
    assert.ok(held.length > 0, "the listener's queue took no connection");
    assert.ok(dropped instanceof ConnectTimeoutError, String(dropped));
    assert.equal(dropped.message, `connecting to ${address} did not complete within 200 ms`);
    assert.equal(dropped.interrupted, true);
  } finally {
    held.forEach((conn) => conn.close());
    listener.close();
  }
});

Deno.test("a run whose coordinator is flooded from the moment it listens equals an undisturbed run, over threads and processes", async () => {
  const plan = leastSquaresPlans(60).gossipRing!;
  const parent = await tempRunFolder();
  try {
    const quiet = await run(plan, { transport: "tcp", out: `${parent}/quiet` });
    const launches = { threads: { transport: "tcp" }, processes: { launch: "processes" } } as const;
    for (const [name, launch] of Object.entries(launches)) {
      let attack: ReturnType<typeof flood> | null = null;
      const flooded = await run(plan, {
        ...launch,
        out: `${parent}/flooded-${name}`,
        onListening: (address) => attack = flood(address),
      }).finally(async () => {
        const count = await attack?.stop();
        assert.ok((count ?? 0) >= 64, `the flood opened only ${count} connections`);
      });
      assert.equal(flooded.summary.status, "completed", name);
      assert.deepEqual(flooded.params, quiet.params, name);
    }
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test({
  name:
    "a CLI run whose listeners are flooded as they appear, its coordinator's until it ends, equals an undisturbed run, over threads and processes",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const plan = leastSquaresPlans(60).gossipRing!;
    const parent = await tempRunFolder();
    try {
      await run(plan, { transport: "tcp", out: `${parent}/quiet` });
      const quiet = await Deno.readTextFile(`${parent}/quiet/params.json`);
      await Deno.writeTextFile(`${parent}/plan.json`, JSON.stringify(plan));
      for (const launch of ["threads", "processes"]) {
        // The run is a CLI process of its own: its listeners (the coordinator's, and the thread
        // workers' mesh ports) are in that process, process workers' in its children, found as
        // `ss -ltp` would and flooded from the moment they appear; no other test's are touched.
        const out = `${parent}/flooded-${launch}`;
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", "--quiet", fromFileUrl(new URL("cli.ts", ROOT))].concat(
            ["run", `${parent}/plan.json`, "--out", out, "--launch", launch],
          ),
          env: { NO_COLOR: "1" },
          stdout: "null",
          stderr: "null",
        }).spawn();
        const floods = new Map<number, Flood>();
        let running = true;
        const watcher = (async () => {
          while (running) {
            for (const port of listeningPortsOf(child.pid)) {
              if (!floods.has(port)) {
                floods.set(port, flood(`127.0.0.1:${port}`, { loops: 16, hold: 8 }));
              }
            }
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        })();
        const { code } = await child.status.finally(async () => {
          running = false;
          await watcher;
        });
        const counts = await Promise.all([...floods.values()].map((each) => each.stop()));
        // The coordinator's port (the first to listen) was flooded until the run ended. The
        // workers' mesh listeners close once the mesh has formed, tens of milliseconds after
        // they open, so the watcher finds and floods some of them only, often too late to
        // connect (the mesh test above floods them before anyone dials, deterministically).
        assert.ok(floods.size >= 2, `${launch}: only ${floods.size} ports flooded`);
        assert.ok(counts[0]! >= 16, `${launch}: the floods opened ${counts}`);
        const summary = JSON.parse(await Deno.readTextFile(`${out}/summary.json`));
        assert.equal(code, 0, `${launch}: ${summary.error}`);
        assert.equal(summary.status, "completed", launch);
        assert.equal(await Deno.readTextFile(`${out}/params.json`), quiet, launch);
      }
    } finally {
      await Deno.remove(parent, { recursive: true });
    }
  },
});
