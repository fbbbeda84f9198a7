/**
 * TLS for the mesh and the control channel: a mesh over TLS reduces like one over TCP, a plain
 * TCP stranger at a TLS listener is refused like any stranger, a client that does not trust the
 * certificate fails with a TLS error, and a run whose coordinator and workers all use TLS gives
 * the parameters of a plain run.
 */

import assert from "node:assert/strict";
import { hasOpenssl, makeCertificates } from "./_tls.ts";
import { Random, stranger } from "./_hostile.ts";
import {
  connectTcpMesh,
  createCommunicator,
  createLocalTcpTransports,
  listenTcp,
} from "../../runtime/comm/mod.ts";
import { dial } from "../../runtime/comm/net.ts";
import { planHashBytes, readTlsFiles } from "../../runtime/auth.ts";
import { openRendezvous, Rendezvous } from "../../runtime/coordinator/rendezvous.ts";
import { type LaunchedWorker, launchWorkers } from "../../runtime/coordinator/launch.ts";
import { RunFailures } from "../../runtime/coordinator/failures.ts";
import { run } from "../../mod.ts";
import { leastSquaresPlans, tempRunFolder } from "../runtime/_plans.ts";

const ignore = !await hasOpenssl();

Deno.test({
  name: "a mesh over TLS reduces, and refuses a plain TCP stranger and an untrusted client",
  ignore,
  async fn() {
    const files = await makeCertificates();
    try {
      const tls = (await readTlsFiles(files))!;
      const transports = await createLocalTcpTransports(3, { tls });
      try {
        const comms = transports.map((transport) => createCommunicator(transport));
        const sums = await Promise.all(
          comms.map((comm) => comm.allReduceSum(new Float32Array(70_000).fill(comm.rank), "base")),
        );
        for (const sum of sums) assert.ok(sum.every((value) => value === 3));
      } finally {
        await Promise.all(transports.map((transport) => transport.close()));
      }
      const opened = [listenTcp({ tls }), listenTcp({ tls })];
      const addresses = opened.map((each) => each.address);
      const warnings: string[] = [];
      const options = (rank: number) => ({
        rank,
        size: 2,
        listener: opened[rank]!.listener,
        addresses,
        tls,
        handshakeTimeoutMs: 500,
        warn: (line: string) => warnings.push(line),
      });
      const first = connectTcpMesh(options(0));
      const plain = await stranger(addresses[0]!, "wrong-secret", new Random(1), 2000);
      assert.ok(plain.closedByListener);
      await assert.rejects(
        dial(addresses[0]!, { caCerts: [] }),
        /TLS handshake with 127\.0\.0\.1:\d+ failed/,
      );
      const mesh = await Promise.all([first, connectTcpMesh(options(1))]);
      await Promise.all(mesh.map((transport) => transport.close()));
      assert.ok(warnings.length >= 2, warnings.join("\n"));
    } finally {
      await Deno.remove(files.folder, { recursive: true });
    }
  },
});

Deno.test({
  name: "a run over TLS, control channel and mesh, gives the parameters of a plain run",
  ignore,
  async fn() {
    const files = await makeCertificates();
    const parent = await tempRunFolder();
    try {
      const plan = leastSquaresPlans(20).gossipRing!;
      const plain = await run(plan, { transport: "tcp", out: `${parent}/plain` });
      const tls = (await readTlsFiles(files))!;
      // The coordinator's side of run_tcp.ts, with TLS: rendezvous, workers, results.
      const { listener, address, security } = await openRendezvous(
        "127.0.0.1:0",
        await planHashBytes(plan),
        { tls },
      );
      const failures = new RunFailures();
      const rendezvous = new Rendezvous(listener, plan.workers, {
        metrics: () => {},
        failures,
        facts: { backend: null, backendReason: null, tfjs: null },
        checkpoints: { every: null, save: () => {}, resume: null },
        security,
      });
      let launched: LaunchedWorker[] = [];
      try {
        launched = launchWorkers(
          plan,
          { launch: "threads", tls: files },
          address,
          (message) => failures.fail(message),
          security,
        );
        assert.equal(await failures.finished, null);
        assert.deepEqual(rendezvous.models.map((model) => Array.from(model)), plain.params.workers);
      } finally {
        failures.dispose();
        await rendezvous.close();
        await Promise.all(launched.map((worker) => worker.stop()));
      }
    } finally {
      await Deno.remove(parent, { recursive: true });
      await Deno.remove(files.folder, { recursive: true });
    }
  },
});
