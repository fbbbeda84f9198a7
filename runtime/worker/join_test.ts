import assert from "node:assert/strict";
import { COORDINATOR, RunKey, serverHandshake } from "../comm/handshake.ts";
import { joinCoordinator } from "./join.ts";

const SECRET = new TextEncoder().encode("a secret for joining tests, 128 bits and more");

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

Deno.test("a worker started before its coordinator retries, says so once, and joins", async () => {
  const port = freePort();
  const lines: string[] = [];
  const joining = joinCoordinator({
    rank: 1,
    world: 2,
    rendezvous: `127.0.0.1:${port}`,
    secret: SECRET,
    runId: null,
    planHash: new Uint8Array(32).fill(4),
    tls: null,
    rendezvousTimeoutMs: 10_000,
    log: (line) => lines.push(line),
  });
  await new Promise((resolve) => setTimeout(resolve, 700));
  const listener = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    const conn = await listener.accept();
    const served = serverHandshake(conn, {
      channel: "control",
      rank: COORDINATOR,
      world: 2,
      runId: new Uint8Array(16).fill(8),
      planHash: new Uint8Array(32).fill(4),
      key: RunKey.fromSecret(SECRET),
      admit: () => null,
    });
    const [joined, { offer }] = await Promise.all([joining, served]);
    assert.equal(offer.rank, 1);
    assert.deepEqual(joined.runId, new Uint8Array(16).fill(8));
    joined.conn.close();
    conn.close();
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      new RegExp(
        `^Worker 1: the coordinator at 127\\.0\\.0\\.1:${port} is not reachable yet \\(.+\\); retrying for up to 10 s$`,
      ),
    );
  } finally {
    listener.close();
  }
});

Deno.test("a coordinator that refuses a worker's plan is quoted by the worker", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  try {
    const joining = joinCoordinator({
      rank: 0,
      world: 2,
      rendezvous: `127.0.0.1:${port}`,
      secret: SECRET,
      runId: null,
      planHash: new Uint8Array(32).fill(1),
      tls: null,
    });
    const conn = await listener.accept();
    const served = serverHandshake(conn, {
      channel: "control",
      rank: COORDINATOR,
      world: 2,
      runId: new Uint8Array(16),
      planHash: new Uint8Array(32).fill(2),
      key: RunKey.fromSecret(SECRET),
      admit: () => null,
    });
    await Promise.all([
      assert.rejects(joining, {
        message:
          "Worker 0 was started with a different plan than the coordinator (plan hash 010101010101… against 020202020202…): start every worker with the same plan",
      }),
      assert.rejects(served, /different plan/),
    ]);
    conn.close();
  } finally {
    listener.close();
  }
});

Deno.test("a worker whose handshakes are cut (a flood at the rendezvous) dials again and joins", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const lines: string[] = [];
  const joining = joinCoordinator({
    rank: 1,
    world: 2,
    rendezvous: `127.0.0.1:${port}`,
    secret: SECRET,
    runId: null,
    planHash: new Uint8Array(32).fill(4),
    tls: null,
    rendezvousTimeoutMs: 10_000,
    log: (line) => lines.push(line),
  });
  const served: Deno.Conn[] = [];
  try {
    // Twice the listener closes the connection unanswered, as when it makes room in a flood.
    for (let cut = 0; cut < 2; cut++) (await listener.accept()).close();
    const conn = await listener.accept();
    served.push(conn);
    const [joined, { offer }] = await Promise.all([
      joining,
      serverHandshake(conn, {
        channel: "control",
        rank: COORDINATOR,
        world: 2,
        runId: new Uint8Array(16).fill(8),
        planHash: new Uint8Array(32).fill(4),
        key: RunKey.fromSecret(SECRET),
        admit: () => null,
      }),
    ]);
    joined.conn.close();
    assert.equal(offer.rank, 1);
    assert.deepEqual(lines, [
      `Worker 1: the handshake with the coordinator at 127.0.0.1:${port} was interrupted (it closed the connection during the handshake); retrying for up to 10 s`,
    ]);
  } finally {
    served.forEach((conn) => conn.close());
    listener.close();
  }
});

Deno.test("a worker whose cut handshakes outlast the rendezvous timeout says so", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  let cutting = true;
  const cutter = (async () => {
    while (cutting) {
      try {
        (await listener.accept()).close();
      } catch {
        return;
      }
    }
  })();
  try {
    await assert.rejects(
      joinCoordinator({
        rank: 1,
        world: 2,
        rendezvous: `127.0.0.1:${port}`,
        secret: SECRET,
        runId: null,
        planHash: new Uint8Array(32).fill(4),
        tls: null,
        rendezvousTimeoutMs: 300,
        log: () => {},
      }),
      new RegExp(
        `^Error: Worker 1 could not authenticate the coordinator at 127\\.0\\.0\\.1:${port}: it closed the connection during the handshake$`,
      ),
    );
  } finally {
    cutting = false;
    listener.close();
    await cutter;
  }
});
