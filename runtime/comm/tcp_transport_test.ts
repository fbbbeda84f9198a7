import assert from "node:assert/strict";
import { expectedScriptTraffic, playTrafficScript, transportConformance } from "./_conformance.ts";
import { createMemoryTransports } from "./memory_transport.ts";
import {
  connectTcpMesh,
  createLocalTcpTransports,
  listenTcp,
  parseAddress,
} from "./tcp_transport.ts";
import { PeerError } from "./types.ts";
import { encodeFrame } from "./wire.ts";
import { clientHandshake, OPEN_SECRET, RunKey } from "./handshake.ts";

/** Connects to a mesh listener as `rank` of `world` (an open mesh's key), handshake done. */
async function joinAs(address: string, rank: number, world: number, target = 0) {
  const conn = await Deno.connect(parseAddress(address));
  const handshake = await clientHandshake(conn, {
    channel: "mesh",
    rank,
    target,
    world,
    runId: new Uint8Array(16),
    planHash: new Uint8Array(32),
    key: await RunKey.fromSecret(OPEN_SECRET),
  }).catch((error) => {
    conn.close();
    throw error;
  });
  return { conn, handshake };
}

transportConformance("tcp", (n, options) => createLocalTcpTransports(n, options));

Deno.test("memory and TCP transports count identical traffic", async () => {
  const memory = createMemoryTransports(3);
  const tcp = await createLocalTcpTransports(3);
  try {
    const fromMemory = await playTrafficScript(memory);
    const fromTcp = await playTrafficScript(tcp);
    assert.deepEqual(fromTcp, fromMemory);
    assert.deepEqual(fromTcp, expectedScriptTraffic(3));
  } finally {
    await Promise.all([...memory, ...tcp].map((transport) => transport.close()));
  }
});

Deno.test("a busy port gives an error naming host:port", () => {
  const { listener, address } = listenTcp();
  try {
    const { port } = parseAddress(address);
    assert.throws(() => listenTcp({ port }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${port}: `));
      return true;
    });
  } finally {
    listener.close();
  }
});

Deno.test("a refused connection gives an error naming the worker and host:port", async () => {
  const closed = listenTcp();
  closed.listener.close();
  const mine = listenTcp();
  const addresses = [closed.address, mine.address];
  await assert.rejects(
    connectTcpMesh({ rank: 1, size: 2, listener: mine.listener, addresses }),
    (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.ok(
        error.message.startsWith(`Cannot connect to worker 0 at ${closed.address}: `),
        error.message,
      );
      return true;
    },
  );
  // The listener was released: the port can be bound again.
  const again = listenTcp({ port: parseAddress(mine.address).port });
  again.listener.close();
});

Deno.test("a peer that never connects is named after the connect timeout", async () => {
  const opened = [listenTcp(), listenTcp()];
  const addresses = opened.map((o) => o.address);
  try {
    await assert.rejects(
      connectTcpMesh({
        rank: 0,
        size: 2,
        listener: opened[0]!.listener,
        addresses,
        timeoutMs: 200,
      }),
      (error: unknown) => {
        assert.ok(error instanceof PeerError);
        assert.equal(error.message, "Worker 1 did not connect within 200 ms");
        return true;
      },
    );
  } finally {
    opened[1]!.listener.close();
  }
});

Deno.test("connections that are not peers are ignored while the mesh forms", async () => {
  const opened = [listenTcp(), listenTcp()];
  const addresses = opened.map((o) => o.address);
  const stranger = await Deno.connect(parseAddress(addresses[0]!));
  await stranger.write(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
  const transports = await Promise.all(
    opened.map((o, rank) => connectTcpMesh({ rank, size: 2, listener: o.listener, addresses })),
  );
  try {
    await transports[1]!.send(0, 0, new Uint8Array([1]), "base");
    assert.deepEqual([...await transports[0]!.recv(1, 0)], [1]);
  } finally {
    stranger.close();
    await Promise.all(transports.map((transport) => transport.close()));
  }
});

Deno.test("a peer expecting another world size is refused with a clear error", async () => {
  const mine = listenTcp();
  const addresses = [mine.address, "127.0.0.1:1"];
  const meshing = connectTcpMesh({ rank: 0, size: 2, listener: mine.listener, addresses });
  const joining = joinAs(mine.address, 1, 3);
  await assert.rejects(meshing, (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.match(
      error.message,
      /^Worker 1 expects 3 workers but worker 0 expects 2 \(a connection from 127\.0\.0\.1:\d+\)$/,
    );
    return true;
  });
  // The refused side learns why.
  await assert.rejects(joining, { message: "Worker 1 expects 3 workers but worker 0 expects 2" });
});

Deno.test("a peer whose socket dies is reported as disconnected", async () => {
  const mine = listenTcp();
  const addresses = [mine.address, "127.0.0.1:1"];
  const meshing = connectTcpMesh({ rank: 0, size: 2, listener: mine.listener, addresses });
  const { conn } = await joinAs(mine.address, 1, 2);
  const transport = await meshing;
  try {
    const pending = transport.recv(1, 0);
    // Half a frame, then the socket goes away.
    await conn.write(
      encodeFrame({ tag: 0, phase: "base", source: 1 }, new Uint8Array(8)).slice(0, 5),
    );
    conn.close();
    await assert.rejects(pending, (error: unknown) => {
      assert.ok(error instanceof PeerError);
      assert.equal(error.peer, 1);
      assert.match(error.message, /^Worker 1 disconnected/);
      return true;
    });
  } finally {
    await transport.close();
  }
});

Deno.test("a peer in a Web Worker that dies is reported as disconnected", async () => {
  const worker = new Worker(new URL("./_test_peer_worker.ts", import.meta.url), {
    type: "module",
  });
  const messages: unknown[] = [];
  let wake = () => {};
  worker.onmessage = (event) => {
    messages.push(event.data);
    wake();
  };
  worker.onerror = (event) => {
    event.preventDefault();
    messages.push({ error: event.message });
    wake();
  };
  const next = async () => {
    while (messages.length === 0) await new Promise<void>((resolve) => wake = resolve);
    return messages.shift() as Record<string, unknown>;
  };
  let transport: Awaited<ReturnType<typeof connectTcpMesh>> | null = null;
  try {
    worker.postMessage({ rank: 1, size: 2 });
    const mine = listenTcp();
    const addresses = [mine.address, (await next()).address as string];
    worker.postMessage(addresses);
    transport = await connectTcpMesh({ rank: 0, size: 2, listener: mine.listener, addresses });
    await transport.send(1, 1, new Uint8Array([5]), "base");
    assert.deepEqual([...await transport.recv(1, 1)], [5]);
    await next(); // ready
    const pending = assert.rejects(transport.recv(1, 3), {
      name: "PeerError",
      message: "Worker 1 disconnected",
    });
    const start = performance.now();
    worker.terminate();
    await pending;
    assert.ok(performance.now() - start < 2000);
  } finally {
    worker.terminate();
    await transport?.close();
  }
});

Deno.test("a mesh of one rank needs no connection", async () => {
  const [transport] = await createLocalTcpTransports(1);
  assert.equal(transport!.size, 1);
  await transport!.close();
});

Deno.test("parseAddress accepts IPv6 hosts and refuses missing ports", () => {
  assert.deepEqual(parseAddress("[::1]:80"), { hostname: "::1", port: 80 });
  assert.throws(() => parseAddress("localhost"), {
    message: 'Invalid address "localhost": expected host:port',
  });
});

Deno.test("heartbeats keep a busy peer alive, and are counted in no phase", async () => {
  const [a, b] = await createLocalTcpTransports(2, { timeoutMs: 300, heartbeatMs: 50 });
  try {
    const waiting = b!.recv(0, 1);
    // Rank 0 sends nothing for over three timeouts; its heartbeats say it is alive.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await a!.send(1, 1, new Uint8Array([9]), "base");
    assert.deepEqual([...await waiting], [9]);
    const zero = { base: 0, outer: 0, compressed: 0, control: 0, state: 0 };
    assert.deepEqual(a!.stats(), { sent: { ...zero, base: 13 }, received: zero });
    assert.deepEqual(b!.stats(), { sent: zero, received: { ...zero, base: 13 } });
  } finally {
    await Promise.all([a!.close(), b!.close()]);
  }
});

Deno.test("a peer breaking the wire format after its handshake fails by name", async () => {
  const cases: [Uint8Array, RegExp][] = [
    [
      encodeFrame({ tag: 0, phase: "base", source: 5 }, new Uint8Array(4)),
      /^Worker 1 sent a frame claiming to come from worker 5$/,
    ],
    [
      encodeFrame({ tag: 0, phase: "base", source: 1, kind: 7 }, new Uint8Array(0)),
      /^Worker 1 sent a frame this worker refuses: Cannot decode frame: unknown kind 7$/,
    ],
    [
      encodeFrame({ tag: 0, phase: "base", source: 1, kind: 1 }, new Uint8Array(0)),
      /unknown kind 1$/,
    ],
    [
      encodeFrame({ tag: 0, phase: "base", source: 1 }, new Uint8Array(65)),
      /exceeds the maximum of 64 bytes$/,
    ],
    [
      encodeFrame({ tag: 0, phase: "control", source: 1, kind: 2 }, new Uint8Array(1)),
      /^Worker 1 sent a heartbeat that carries a payload$/,
    ],
  ];
  for (const [frame, message] of cases) {
    const mine = listenTcp();
    const addresses = [mine.address, "127.0.0.1:1"];
    const meshing = connectTcpMesh({
      rank: 0,
      size: 2,
      listener: mine.listener,
      addresses,
      maxFramePayload: 64,
    });
    const { conn } = await joinAs(mine.address, 1, 2);
    const transport = await meshing;
    try {
      const pending = transport.recv(1, 0);
      await conn.write(frame);
      await assert.rejects(pending, (error: unknown) => {
        assert.ok(error instanceof PeerError);
        assert.match(error.message, message);
        return true;
      });
    } finally {
      conn.close();
      await transport.close();
    }
  }
});

Deno.test("a second connection claiming a connected rank fails forming the mesh", async () => {
  const mine = listenTcp();
  const addresses = [mine.address, "127.0.0.1:1", "127.0.0.1:2"];
  const meshing = connectTcpMesh({ rank: 0, size: 3, listener: mine.listener, addresses });
  const first = await joinAs(mine.address, 1, 3);
  const second = assert.rejects(joinAs(mine.address, 1, 3), {
    message: "Worker 0 already has a connection from worker 1",
  });
  try {
    await assert.rejects(meshing, (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(
        error.message,
        /^Worker 0 already has a connection from worker 1 \(a connection from 127\.0\.0\.1:\d+\)$/,
      );
      return true;
    });
    await second;
  } finally {
    first.conn.close();
  }
});
