import assert from "node:assert/strict";
import { openRendezvous, Rendezvous } from "./rendezvous.ts";
import { RunFailures } from "./failures.ts";
import { ControlWriter, encodeControl } from "../control.ts";
import { FrameMac, type SessionKeys } from "../comm/frame_mac.ts";
import { writeAll } from "../comm/write_all.ts";
import { joinCoordinator } from "../worker/join.ts";
import { parseAddress } from "../comm/tcp_address.ts";
import { ControlChannel } from "../worker/control_channel.ts";

const SECRET = "5ec2e7f02a2de2d0005ec2e7f02a2de2";
const PLAN_HASH = new Uint8Array(32).fill(1);

/** A rendezvous for two workers with a short handshake timeout, its warnings collected. */
async function rendezvousForTwo() {
  const warnings: string[] = [];
  const opened = await openRendezvous("127.0.0.1:0", PLAN_HASH, {
    secret: SECRET,
    handshakeTimeoutMs: 200,
  });
  const failures = new RunFailures();
  const lines: unknown[] = [];
  const rendezvous = new Rendezvous(opened.listener, 2, {
    metrics: (received) => lines.push(...received),
    failures,
    facts: { backend: null, backendReason: null, tfjs: null },
    checkpoints: { every: null, save: () => {}, resume: null },
    security: { ...opened.security, warn: (line) => warnings.push(line) },
  });
  const join = (rank: number) =>
    joinCoordinator({
      rank,
      world: 2,
      rendezvous: opened.address,
      secret: new TextEncoder().encode(SECRET),
      runId: null,
      planHash: PLAN_HASH,
      tls: null,
    });
  const close = async () => {
    failures.dispose();
    await rendezvous.close();
  };
  return { address: opened.address, failures, warnings, join, close, rendezvous, lines };
}

/** Waits (at most 2 s) until `done()` holds. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(done());
}

const hello = (rank: number) => ({
  type: "hello",
  rank,
  address: "127.0.0.1:1",
  backend: "cpu",
  backendReason: "test",
  tfjsVersion: "0",
});

Deno.test("a worker breaking the control protocol fails the run, naming it", async () => {
  const cases: [(send: ControlWriter["send"]) => Promise<unknown>, string][] = [
    [async (send) => {
      await send(hello(0));
      await send(hello(0));
    }, "Worker 0 registered twice"],
    [(send) => send(hello(1)), "Worker 0 registered as rank 1"],
    [
      (send) => send({ type: "done", rank: 1, parameters: 0 }),
      "Worker 0 sent its final model as worker 1",
    ],
    [async (send) => {
      const done = { type: "done", rank: 0, parameters: 1, tensors: [{ name: "w", shape: [1] }] };
      await send(done, new Uint8Array(4));
      await send(done, new Uint8Array(4));
    }, "Worker 0 sent its final model twice"],
    [
      (send) =>
        send(
          { type: "done", rank: 0, parameters: 1, tensors: [{ name: "w", shape: [2] }] },
          new Uint8Array(4),
        ),
      "Worker 0 sent a tensor layout that does not describe its 1 parameters",
    ],
    [
      (send) => send({ type: "done", rank: 0, parameters: 3 }, new Uint8Array(4)),
      "Worker 0 sent a final model of 4 bytes for 3 parameters",
    ],
    [
      (send) => send({ type: "waiting", rank: 1, waiting: true }),
      "Worker 0 sent a waiting notice as worker 1",
    ],
    [(send) => send({ type: "shutdown" }), 'Worker 0 sent an unknown control message "shutdown"'],
  ];
  for (const [misbehave, expected] of cases) {
    const { failures, join, close } = await rendezvousForTwo();
    const { conn, session } = await join(0);
    try {
      const writer = new ControlWriter(conn, 0, session.send);
      await misbehave((header, body) => writer.send(header, body));
      assert.equal(await failures.finished, expected);
    } finally {
      conn.close();
      await close();
    }
  }
});

Deno.test("a control frame altered, replayed or signed with another key fails the run, naming the worker", async () => {
  const altered = (sequence: number) =>
    `Control frame ${sequence} from worker 0 failed authentication: the connection was altered on its way (a frame changed, forged, replayed, reordered or dropped by someone in the path without the run secret)`;
  const cases: [(conn: Deno.Conn, session: SessionKeys) => Promise<unknown>, string][] = [
    // A bit flipped in the JSON of a hello that is otherwise valid.
    [async (conn, session) => {
      const frame = encodeControl(hello(0));
      const mac = session.send.sign([frame]);
      frame[frame.byteLength - 3]! ^= 1;
      await writeAll(conn, frame);
      await writeAll(conn, mac);
    }, altered(0)],
    // The same frame and MAC twice: the second is checked as frame 1 ("registered twice" is
    // never reached).
    [async (conn, session) => {
      const frame = encodeControl(hello(0));
      const mac = session.send.sign([frame]);
      for (let i = 0; i < 2; i++) {
        await writeAll(conn, frame);
        await writeAll(conn, mac);
      }
    }, altered(1)],
    // Frame 1 sent in the place of frame 0 (frame 0 dropped).
    [async (conn, session) => {
      const frames = [encodeControl(hello(0)), encodeControl({ type: "metrics", lines: [] })];
      const macs = frames.map((frame) => session.send.sign([frame]));
      await writeAll(conn, frames[1]!);
      await writeAll(conn, macs[1]!);
    }, altered(0)],
    // Well formed, under a key that is not this connection's.
    [
      (conn) => new ControlWriter(conn, 0, new FrameMac(new Uint8Array(32))).send(hello(0)),
      altered(0),
    ],
  ];
  for (const [misbehave, expected] of cases) {
    const { failures, join, close } = await rendezvousForTwo();
    const { conn, session } = await join(0);
    try {
      await misbehave(conn, session);
      assert.equal(await failures.finished, expected);
    } finally {
      conn.close();
      await close();
    }
  }
});

Deno.test("waiting notices are not progress, and a silent run names the worker that does not wait", async () => {
  const { join, close, rendezvous, lines } = await rendezvousForTwo();
  const [joined0, joined1] = [await join(0), await join(1)];
  const [zero, one] = [joined0.conn, joined1.conn];
  try {
    const [send0, send1] = [
      new ControlWriter(zero, 0, joined0.session.send),
      new ControlWriter(one, 1, joined1.session.send),
    ];
    await send0.send(hello(0));
    await send1.send(hello(1));
    const step = { type: "step", worker: 0, step: 3 };
    await send0.send({ type: "metrics", lines: [{ ...step, step: 2 }, step] });
    await until(() => lines.length === 2);
    const heard = rendezvous.lastHeard;
    await send0.send({ type: "waiting", rank: 0, waiting: true });
    await until(() => rendezvous.stalled()?.includes("waits") === true);
    assert.equal(rendezvous.lastHeard, heard, "a waiting notice does not hold off the watchdog");
    assert.match(
      rendezvous.stalled()!,
      /^Stalled: worker 1 \(host 127\.0\.0\.1\) reported no step since it registered; last heard \d+\.\d s ago, while worker 0 waits in a collective$/,
    );
    // Once worker 0 stops waiting, both are suspects and the one furthest behind is named.
    await send0.send({ type: "waiting", rank: 0, waiting: false });
    await until(() => rendezvous.stalled()?.includes("waits") === false);
    assert.match(
      rendezvous.stalled()!,
      /^Stalled: worker 1 \(host 127\.0\.0\.1\) reported no step[^;]*; last heard [\d.]+ s ago$/,
    );
  } finally {
    zero.close();
    one.close();
    await close();
  }
});

Deno.test("ranks out of range or taken are refused, and fail the run", async () => {
  {
    const { failures, join, close } = await rendezvousForTwo();
    try {
      await assert.rejects(join(5), { message: "Worker 5 joined, but the run's ranks are 0..1" });
      assert.equal(await failures.finished, "Worker 5 joined, but the run's ranks are 0..1");
    } finally {
      await close();
    }
  }
  const { failures, join, close } = await rendezvousForTwo();
  const first = await join(1);
  try {
    await assert.rejects(join(1), (error: unknown) => {
      assert.match(
        (error as Error).message,
        /^Worker 1 was refused by the coordinator at 127\.0\.0\.1:\d+: Two workers joined as rank 1/,
      );
      return true;
    });
    assert.match((await failures.finished)!, /^Two workers joined as rank 1: give each worker/);
  } finally {
    first.conn.close();
    await close();
  }
});

Deno.test("a connection that sends nothing is dropped with a warning; the run is untouched", async () => {
  const { address, failures, warnings, join, close } = await rendezvousForTwo();
  const silent = await Deno.connect(parseAddress(address));
  try {
    const closed = await silent.read(new Uint8Array(16)).catch(() => null);
    assert.equal(closed, null);
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /^the coordinator refused a connection from 127\.0\.0\.1:\d+ to its rendezvous at 127\.0\.0\.1:\d+, which did not complete the handshake within 200 ms$/,
    );
    assert.equal(failures.failed, null);
    // Workers still join.
    const worker = await join(0);
    worker.conn.close();
  } finally {
    silent.close();
    await close();
  }
});

Deno.test("a resumed elastic run starts with its checkpoint's members; a worker lost before it is told to --join later", async () => {
  const opened = await openRendezvous("127.0.0.1:0", PLAN_HASH, { secret: SECRET });
  const failures = new RunFailures();
  const state = { buffers: [{ name: "x", data: Float32Array.of(1) }], virtualMs: null };
  const rendezvous = new Rendezvous(opened.listener, 3, {
    metrics: () => {},
    failures,
    facts: { backend: null, backendReason: null, tfjs: null },
    checkpoints: {
      every: null,
      save: () => {},
      resume: {
        folder: "unused",
        step: 8,
        workers: [state, { buffers: [], virtualMs: null }, state],
        members: [0, 2],
        lost: [{ worker: 1, steps: 5, reason: "killed" }],
      },
    },
    security: opened.security,
    elastic: { minWorkers: 2, steps: 20, rejoinRefusal: null, server: null },
  });
  const join = async (rank: number) => {
    const joined = await joinCoordinator({
      rank,
      world: 3,
      rendezvous: opened.address,
      secret: new TextEncoder().encode(SECRET),
      runId: null,
      planHash: PLAN_HASH,
      tls: null,
    });
    const channel = new ControlChannel(joined, rank, () => undefined);
    await channel.send({ ...hello(rank), type: "hello", address: `127.0.0.1:${1000 + rank}` });
    return { joined, channel };
  };
  const workers = [];
  try {
    // Worker 1 was lost before the checkpoint: it is sent away, and the run waits for 0 and 2.
    workers.push(await join(1));
    await assert.rejects(workers[0]!.channel.started, /start it again with --join/);
    workers.push(await join(0), await join(2));
    for (const { channel } of workers.slice(1)) {
      const start = await channel.started;
      assert.deepEqual(start.members, [0, 2]);
      assert.deepEqual(start.addresses, ["127.0.0.1:1000", "", "127.0.0.1:1002"]);
      assert.equal(start.resume?.step, 8);
    }
    assert.deepEqual(rendezvous.lost.map((entry) => entry.worker), [1]);
    assert.ok(!rendezvous.isLive(1) && rendezvous.isLive(0) && rendezvous.isLive(2));
    assert.equal(failures.failed, null);
  } finally {
    for (const { joined } of workers) joined.conn.close();
    failures.dispose();
    await rendezvous.close();
  }
});
