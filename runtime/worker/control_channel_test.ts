import assert from "node:assert/strict";
import { COORDINATOR, RunKey, serverHandshake } from "../comm/handshake.ts";
import { encodeControl } from "../control.ts";
import { writeAll } from "../comm/write_all.ts";
import { joinCoordinator } from "./join.ts";
import { ControlChannel } from "./control_channel.ts";

const SECRET = new TextEncoder().encode("a secret for control channel tests, 128 bits");
const PLAN_HASH = new Uint8Array(32).fill(4);

/** A worker joined to a coordinator played by the test, which writes raw bytes to it. */
async function joinedWorker() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const joining = joinCoordinator({
    rank: 0,
    world: 1,
    rendezvous: `127.0.0.1:${port}`,
    secret: SECRET,
    runId: null,
    planHash: PLAN_HASH,
    tls: null,
  });
  const conn = await listener.accept();
  listener.close();
  const served = serverHandshake(conn, {
    channel: "control",
    rank: COORDINATOR,
    world: 1,
    runId: new Uint8Array(16).fill(8),
    planHash: PLAN_HASH,
    key: RunKey.fromSecret(SECRET),
    admit: () => null,
  });
  const [joined, { session }] = await Promise.all([joining, served]);
  let stopped = 0;
  const channel = new ControlChannel(joined, 0, () => {
    stopped++;
    return undefined;
  });
  return { conn, session, channel, stopped: () => stopped };
}

const START = { type: "start", addresses: ["127.0.0.1:1"], checkpointEvery: null, resume: null };

Deno.test("a worker takes the coordinator's authenticated start message", async () => {
  const { conn, session, channel } = await joinedWorker();
  try {
    const frame = encodeControl(START, undefined, COORDINATOR);
    await writeAll(conn, frame);
    await writeAll(conn, session.send.sign([frame]));
    assert.deepEqual((await channel.started).addresses, ["127.0.0.1:1"]);
  } finally {
    channel.close();
    conn.close();
    await channel.ended;
  }
});

Deno.test("a worker stops at a coordinator's frame altered on its way, naming the coordinator", async () => {
  const { conn, session, channel, stopped } = await joinedWorker();
  try {
    // The start message's addresses rewritten after it was signed (a worker sent elsewhere).
    const frame = encodeControl(START, undefined, COORDINATOR);
    const mac = session.send.sign([frame]);
    const at = new TextDecoder("latin1").decode(frame).indexOf("127.0.0.1:1");
    frame.set(new TextEncoder().encode("10.6.6.6:66"), at);
    await writeAll(conn, frame);
    await writeAll(conn, mac);
    await assert.rejects(channel.started, {
      message:
        "Worker 0 stopped: Control frame 0 from the coordinator failed authentication: the connection was altered on its way (a frame changed, forged, replayed, reordered or dropped by someone in the path without the run secret)",
    });
    await channel.ended;
    assert.equal(stopped(), 1);
  } finally {
    channel.close();
    conn.close();
  }
});
