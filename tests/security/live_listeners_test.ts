/**
 * Strangers against live listeners: a worker's mesh listener while the mesh forms, and the
 * rendezvous of a coordinator while workers register. Every stranger is refused and its
 * connection closed within the handshake timeout, each refusal is logged with the remote
 * address, memory stays bounded, and the real peers connect as if nobody had come.
 */

import assert from "node:assert/strict";
import { hammer } from "./_hostile.ts";
import { connectTcpMesh, createCommunicator, listenTcp } from "../../runtime/comm/mod.ts";
import { clientHandshake, COORDINATOR, RunKey } from "../../runtime/comm/handshake.ts";
import { parseAddress } from "../../runtime/comm/tcp_address.ts";
import { openRendezvous, Rendezvous } from "../../runtime/coordinator/rendezvous.ts";
import { type LaunchedWorker, launchWorkers } from "../../runtime/coordinator/launch.ts";
import { RunFailures } from "../../runtime/coordinator/failures.ts";
import { planHashBytes } from "../../runtime/auth.ts";
import { leastSquaresPlans } from "../runtime/_plans.ts";

const HEAP_BOUND_BYTES = 64 << 20;

Deno.test("a worker's mesh listener refuses 300 strangers and the mesh still forms", async () => {
  const opened = [listenTcp(), listenTcp()];
  const addresses = opened.map((each) => each.address);
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const runId = crypto.getRandomValues(new Uint8Array(16));
  const warnings: string[] = [];
  const options = (rank: number) => ({
    rank,
    size: 2,
    listener: opened[rank]!.listener,
    addresses,
    secret,
    runId,
    handshakeTimeoutMs: 300,
    warn: (line: string) => warnings.push(line),
  });
  const heap = Deno.memoryUsage().heapUsed;
  const first = connectTcpMesh(options(0));
  const outcomes = await hammer(addresses[0]!, 300, { concurrency: 30, patienceMs: 2000 });
  assert.equal(outcomes.length, 300);
  const lingering = outcomes.filter((outcome) => !outcome.closedByListener);
  assert.deepEqual(lingering, [], "every stranger's connection was closed by the listener");
  assert.ok(Math.max(...outcomes.map((o) => o.ms)) < 2000);
  assert.ok(warnings.length >= 250, `${warnings.length} warnings`);
  for (const line of warnings) {
    assert.match(line, /^worker 0 refused a mesh connection from 127\.0\.0\.1:\d+, which /);
  }
  assert.ok(warnings.some((line) => /within 300 ms$/.test(line)));
  assert.ok(warnings.some((line) => /not a gossamer handshake/.test(line)));
  assert.ok(warnings.some((line) => /failed to prove the run secret/.test(line)));
  const grown = Deno.memoryUsage().heapUsed - heap;
  assert.ok(grown < HEAP_BOUND_BYTES, `the heap grew by ${grown} bytes`);
  // The real peer joins as if nobody had come.
  const transports = await Promise.all([first, connectTcpMesh(options(1))]);
  try {
    const comms = transports.map((transport) => createCommunicator(transport));
    const sums = await Promise.all(
      comms.map((comm) => comm.allReduceSum(Float32Array.of(comm.rank + 1), "base")),
    );
    assert.deepEqual(sums.map((sum) => [...sum]), [[3], [3]]);
  } finally {
    await Promise.all(transports.map((transport) => transport.close()));
  }
});

Deno.test("a rendezvous refuses strangers while its workers register, and the run completes", async () => {
  const plan = leastSquaresPlans(20).allReduce!;
  const opened = await openRendezvous("127.0.0.1:0", await planHashBytes(plan), {
    handshakeTimeoutMs: 300,
  });
  const { listener, address } = opened;
  const warnings: string[] = [];
  const security = { ...opened.security, warn: (line: string) => warnings.push(line) };
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
    // The strangers come first: nothing is launched until they have been refused.
    const heap = Deno.memoryUsage().heapUsed;
    const outcomes = await hammer(address, 300, { concurrency: 30, patienceMs: 2000, seed: 5 });
    assert.ok(outcomes.every((outcome) => outcome.closedByListener));
    assert.equal(failures.failed, null, "strangers never fail the run");
    assert.equal(rendezvous.registered, 0);
    assert.ok(warnings.length >= 250, `${warnings.length} warnings`);
    for (const line of warnings) {
      assert.match(
        line,
        /^the coordinator refused a connection from 127\.0\.0\.1:\d+ to its rendezvous at 127\.0\.0\.1:\d+, which /,
      );
    }
    const grown = Deno.memoryUsage().heapUsed - heap;
    assert.ok(grown < HEAP_BOUND_BYTES, `the heap grew by ${grown} bytes`);
    // A member of another run (another secret) is a stranger too.
    const conn = await Deno.connect(parseAddress(address));
    await assert.rejects(
      clientHandshake(conn, {
        channel: "control",
        rank: 0,
        target: COORDINATOR,
        world: plan.workers,
        runId: null,
        planHash: await planHashBytes(plan),
        key: RunKey.fromSecret(new TextEncoder().encode("the secret of another run")),
      }),
      /refused this side's proof: the two sides hold different secrets/,
    );
    conn.close();
    launched = launchWorkers(
      plan,
      { launch: "threads" },
      address,
      (m) => failures.fail(m),
      security,
    );
    assert.equal(await failures.finished, null);
    assert.equal(rendezvous.models.filter((model) => model.length === 3).length, plan.workers);
  } finally {
    failures.dispose();
    await rendezvous.close();
    await Promise.all(launched.map((worker) => worker.stop()));
  }
});
