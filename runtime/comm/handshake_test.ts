import assert from "node:assert/strict";
import {
  type Challenge,
  clientHandshake,
  COORDINATOR,
  decodeChallenge,
  decodeOffer,
  decodeProof,
  decodeVerdict,
  encodeChallenge,
  encodeOffer,
  encodeProof,
  encodeVerdict,
  HANDSHAKE_MAX_PAYLOAD,
  HandshakeError,
  handshakeFrame,
  HandshakeReader,
  type Offer,
  RunKey,
  serverHandshake,
  type ServerHandshakeOptions,
  VERDICT,
} from "./handshake.ts";
import { encodeFrame, FRAME_DATA } from "./wire.ts";

const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);

const OFFER: Offer = {
  channel: "mesh",
  rank: 3,
  world: 5,
  target: 1,
  runId: bytes(16, 7),
  planHash: bytes(32, 9),
  nonce: bytes(32, 1),
};

Deno.test("handshake messages round-trip through their documented layouts", () => {
  const offer = encodeOffer(OFFER);
  assert.equal(offer.byteLength, 96);
  assert.deepEqual([...offer.subarray(0, 8)], [0x47, 0x53, 0x4d, 0x52, 3, 1, 1, 0]);
  assert.deepEqual(decodeOffer(offer), OFFER);
  const challenge: Challenge = {
    channel: "control",
    rank: COORDINATOR,
    world: 4,
    runId: bytes(16, 2),
    planHash: bytes(32, 3),
    nonce: bytes(32, 4),
  };
  const encoded = encodeChallenge(challenge);
  assert.equal(encoded.byteLength, 96);
  assert.deepEqual(decodeChallenge(encoded), challenge);
  assert.deepEqual(decodeProof(encodeProof(bytes(32, 6))), bytes(32, 6));
  const verdict = { status: VERDICT.plan, reason: "Worker 2 runs another plan: é" };
  assert.deepEqual(decodeVerdict(encodeVerdict(verdict)), { ...verdict, proof: bytes(32, 0) });
  const signed = encodeVerdict({ ...verdict, proof: bytes(32, 8) });
  assert.equal(signed.byteLength, 42 + new TextEncoder().encode(verdict.reason).byteLength);
  assert.deepEqual(signed.subarray(8, 40), bytes(32, 8));
  assert.deepEqual(decodeVerdict(signed).proof, bytes(32, 8));
  // A long reason is cut to 400 bytes at a character boundary.
  const long = decodeVerdict(encodeVerdict({ status: VERDICT.other, reason: "é".repeat(300) }));
  assert.equal(long.reason, "é".repeat(200));
});

Deno.test("handshake decoders refuse anything but their own message of this version", () => {
  const offer = encodeOffer(OFFER);
  const mutate = (at: number, value: number) => {
    const copy = offer.slice();
    copy[at] = value;
    return copy;
  };
  assert.throws(() => decodeOffer(mutate(0, 0x48)), /wrong magic number/);
  assert.throws(() => decodeOffer(mutate(4, 1)), /protocol version 1, this side speaks version 3/);
  // Version 2 authenticated the handshake but none of the frames after it.
  assert.throws(() => decodeOffer(mutate(4, 2)), /protocol version 2, this side speaks version 3/);
  assert.throws(() => decodeOffer(mutate(5, 3)), /type 3 where an offer belongs/);
  assert.throws(() => decodeOffer(mutate(6, 9)), /unknown channel 9/);
  assert.throws(() => decodeOffer(offer.subarray(0, 95)), /95 bytes for an offer of 96/);
  assert.throws(() => decodeOffer(new Uint8Array(3)), /too short/);
  const verdict = encodeVerdict({ status: VERDICT.rank, reason: "no" });
  const overrun = verdict.slice();
  overrun[40] = 200;
  assert.throws(() => decodeVerdict(overrun), /overruns/);
  const status = verdict.slice();
  status[6] = 77;
  assert.throws(() => decodeVerdict(status), /unknown status 77/);
  for (const error of [() => decodeProof(offer), () => decodeChallenge(offer)]) {
    assert.throws(error, HandshakeError);
  }
});

Deno.test("the handshake reader checks a header before reading its payload, and keeps the rest", () => {
  const reader = new HandshakeReader();
  const frame = handshakeFrame(2, encodeProof(bytes(32, 1)));
  const after = encodeFrame({ tag: 4, phase: "base", source: 2 }, bytes(600, 8));
  reader.feed(frame.subarray(0, 5));
  assert.equal(reader.take(), null);
  reader.feed(frame.subarray(5));
  reader.feed(after.subarray(0, 30));
  assert.deepEqual(reader.take()?.payload, encodeProof(bytes(32, 1)));
  // What follows is another reader's, even over the handshake's limit.
  assert.deepEqual(reader.leftover(), after.subarray(0, 30));
  const http = new HandshakeReader();
  http.feed(new TextEncoder().encode("GET / HTTP/1.1\r\n"));
  assert.throws(() => http.take(), /not a gossamer handshake/);
  const big = new HandshakeReader();
  const header = handshakeFrame(0, new Uint8Array(0));
  new DataView(header.buffer).setUint32(0, HANDSHAKE_MAX_PAYLOAD + 1, true);
  big.feed(header);
  assert.throws(() => big.take(), /handshake message of 513 bytes \(at most 512\)/);
  const data = new HandshakeReader();
  data.feed(encodeFrame({ tag: 0, phase: "control", source: 0, kind: FRAME_DATA }, bytes(4, 0)));
  assert.throws(() => data.take(), /frame kind 0/);
});

Deno.test("an HMAC key signs and verifies under a label, and tells labels apart", async () => {
  const key = await RunKey.fromSecret(new TextEncoder().encode("a secret of the run"));
  const other = await RunKey.fromSecret(new TextEncoder().encode("another secret"));
  const mac = await key.sign("a", bytes(3, 1), bytes(2, 2));
  assert.equal(mac.byteLength, 32);
  assert.ok(await key.verify("a", mac, bytes(3, 1), bytes(2, 2)));
  assert.ok(!await key.verify("b", mac, bytes(3, 1), bytes(2, 2)));
  assert.ok(!await other.verify("a", mac, bytes(3, 1), bytes(2, 2)));
  await assert.rejects(RunKey.fromSecret(new Uint8Array(0)), RangeError);
});

/** A connected pair of sockets on loopback. */
async function socketPair(): Promise<[Deno.Conn, Deno.Conn]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port }),
    listener.accept(),
  ]);
  listener.close();
  return [client, server];
}

const SECRET = new TextEncoder().encode("the run's secret, long enough");

async function serverOptions(
  overrides: Partial<ServerHandshakeOptions> = {},
): Promise<ServerHandshakeOptions> {
  return {
    channel: "control",
    rank: COORDINATOR,
    world: 4,
    runId: bytes(16, 5),
    planHash: bytes(32, 6),
    key: await RunKey.fromSecret(SECRET),
    timeoutMs: 2000,
    admit: () => null,
    ...overrides,
  };
}

function clientOptions(key: Promise<RunKey>, overrides: Record<string, unknown> = {}) {
  return {
    channel: "control" as const,
    rank: 2,
    target: COORDINATOR,
    world: 4,
    runId: null,
    planHash: bytes(32, 6),
    key,
    timeoutMs: 2000,
    ...overrides,
  };
}

/** Runs both sides of a handshake; returns both outcomes. */
async function handshake(
  server: ServerHandshakeOptions,
  client: ReturnType<typeof clientOptions>,
) {
  const [a, b] = await socketPair();
  try {
    // A failed client closes its connection at once, as every caller does.
    const failing = clientHandshake(a, client).catch((error) => {
      a.close();
      throw error;
    });
    return await Promise.allSettled([failing, serverHandshake(b, server)]);
  } finally {
    for (const conn of [a, b]) {
      try {
        conn.close();
      } catch { /* closed by a timeout */ }
    }
  }
}

Deno.test("both sides prove the secret; the client learns the run id", async () => {
  const [client, server] = await handshake(
    await serverOptions(),
    clientOptions(RunKey.fromSecret(SECRET)),
  );
  assert.equal(client.status, "fulfilled");
  assert.equal(server.status, "fulfilled");
  assert.deepEqual(client.value.runId, bytes(16, 5));
  assert.equal(server.value.offer.rank, 2);
  assert.equal(client.value.leftover.byteLength, 0);
});

Deno.test("a handshake gives both sides one frame key per direction, never another connection's", async () => {
  const connect = async () => {
    const [client, server] = await handshake(
      await serverOptions(),
      clientOptions(RunKey.fromSecret(SECRET)),
    );
    assert.ok(client.status === "fulfilled" && server.status === "fulfilled");
    return [client.value.session, server.value.session] as const;
  };
  const [client, server] = await connect();
  const frame = new Uint8Array([1, 2, 3, 4]);
  // Each direction: what one side signs, the other side checks, frame by frame.
  assert.ok(server.receive.check([frame], client.send.sign([frame])));
  assert.ok(client.receive.check([frame], server.send.sign([frame])));
  // The two directions have different keys: a frame reflected back to its sender fails.
  assert.ok(!client.receive.check([frame], client.send.sign([frame])));
  // Another connection of the same run, same ranks: other nonces, other keys (its frame 1
  // against this connection's frame 1).
  const [other] = await connect();
  other.send.sign([frame]);
  assert.equal(server.receive.sequence, 1);
  assert.ok(!server.receive.check([frame], other.send.sign([frame])));
});

Deno.test("a client without the secret is a stranger to the server, and is told so unsigned", async () => {
  const [client, server] = await handshake(
    await serverOptions(),
    clientOptions(RunKey.fromSecret(new TextEncoder().encode("a guess at the secret"))),
  );
  assert.equal(client.status, "rejected");
  assert.match(client.reason.message, /refused this side's proof: the two sides hold different/);
  assert.equal((client.reason as HandshakeError).status, VERDICT.secret);
  assert.equal((client.reason as HandshakeError).interrupted, false);
  assert.equal(server.status, "rejected");
  assert.equal((server.reason as HandshakeError).member, false);
});

Deno.test("a member with another plan, world or run is refused with a reason on both sides", async () => {
  const cases = [
    [
      { planHash: bytes(32, 1) },
      VERDICT.plan,
      /^Worker 2 was started with a different plan than the coordinator \(plan hash 010101010101… against 060606060606…\)/,
    ],
    [{ world: 3 }, VERDICT.world, /^Worker 2 expects 3 workers but the coordinator expects 4$/],
    [{ runId: bytes(16, 9) }, VERDICT.run, /^Worker 2 belongs to run 0909.*, not to run 0505/],
  ] as const;
  for (const [overrides, status, message] of cases) {
    const [client, server] = await handshake(
      await serverOptions(),
      clientOptions(RunKey.fromSecret(SECRET), overrides),
    );
    for (const side of [client, server]) {
      assert.equal(side.status, "rejected");
      const error = side.reason as HandshakeError;
      assert.equal(error.member, true);
      assert.equal(error.status, status);
      assert.match(error.message, message);
    }
  }
});

Deno.test("the admission rule refuses an authenticated rank", async () => {
  const [client, server] = await handshake(
    await serverOptions({
      admit: (offer) => ({ status: VERDICT.rank, reason: `Rank ${offer.rank} is taken` }),
    }),
    clientOptions(RunKey.fromSecret(SECRET)),
  );
  assert.equal(client.status, "rejected");
  assert.equal(client.reason.message, "Rank 2 is taken");
  assert.equal(server.status, "rejected");
});

Deno.test("a connection that sends nothing fails the handshake at its timeout", async () => {
  const [a, b] = await socketPair();
  const start = performance.now();
  try {
    await assert.rejects(
      serverHandshake(b, await serverOptions({ timeoutMs: 150 })),
      (error: unknown) => {
        assert.ok(error instanceof HandshakeError);
        assert.equal(error.message, "did not complete the handshake within 150 ms");
        assert.equal(error.member, false);
        return true;
      },
    );
    assert.ok(performance.now() - start < 1500);
  } finally {
    a.close();
  }
});

Deno.test("a server of another protocol version is named by the client", async () => {
  const [a, b] = await socketPair();
  try {
    const client = clientHandshake(a, clientOptions(RunKey.fromSecret(SECRET)));
    const reader = new HandshakeReader();
    await reader.next(b);
    const answer = encodeVerdict({ status: VERDICT.accepted, reason: "" });
    answer[4] = 9;
    await b.write(handshakeFrame(COORDINATOR, answer));
    await assert.rejects(client, /speaks protocol version 9/);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("a client of protocol version 2 (frames without MACs) is told both versions", async () => {
  const [a, b] = await socketPair();
  try {
    const server = serverHandshake(b, await serverOptions());
    server.catch(() => {}); // rejects while the verdict is read; checked below
    const offer = encodeOffer({ ...OFFER, channel: "control", rank: 2, world: 4 });
    offer[4] = 2;
    await a.write(handshakeFrame(2, offer));
    const verdict = decodeVerdict((await new HandshakeReader().next(a)).payload);
    assert.equal(verdict.status, VERDICT.version);
    assert.equal(verdict.reason, "speaks protocol version 2, this side speaks version 3");
    await assert.rejects(server, {
      message: /speaks protocol version 2, this side speaks version 3/,
    });
  } finally {
    a.close();
    b.close();
  }
});
