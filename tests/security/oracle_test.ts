/**
 * The handshake is no offline-cracking oracle (issue 20, item 7): whatever a stranger sends, the
 * bytes it gets back do not depend on the run's secret, so it holds nothing to test guesses of
 * the secret against. Checked the strongest way: with the server's randomness fixed, servers with
 * two different secrets answer a stranger with identical bytes (version 1 answered every offer
 * with an HMAC of the secret). And a weak secret from the environment or a file is refused, with
 * how to generate one.
 */

import assert from "node:assert/strict";
import {
  COORDINATOR,
  encodeOffer,
  encodeProof,
  handshakeFrame,
  RunKey,
  serverHandshake,
} from "../../runtime/comm/handshake.ts";
import { findSecret, SECRET_ENV, SECRET_FILE_ENV } from "../../runtime/auth.ts";

const PLAN_HASH = new Uint8Array(32).fill(6);

/** What a stranger does after connecting. */
type Probe = "nothing" | "garbage" | "offer" | "offer and a forged proof";

/** Runs `body` with `crypto.getRandomValues` made a fixed sequence, so nonces repeat. */
async function withFixedRandomness<T>(body: () => Promise<T>): Promise<T> {
  const original = crypto.getRandomValues;
  let counter = 0;
  crypto.getRandomValues = (<A extends ArrayBufferView | null>(array: A): A => {
    if (array !== null) {
      const view = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
      for (let i = 0; i < view.length; i++) view[i] = (counter++ * 131 + 7) & 0xff;
    }
    return array;
  }) as typeof crypto.getRandomValues;
  try {
    return await body();
  } finally {
    crypto.getRandomValues = original;
  }
}

/** Everything a stranger receives from a server holding `secret` until it closes. */
async function strangerReceives(secret: string, probe: Probe): Promise<Uint8Array> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const [conn, accepted] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port }),
    listener.accept(),
  ]);
  listener.close();
  const server = serverHandshake(accepted, {
    channel: "control",
    rank: COORDINATOR,
    world: 2,
    runId: new Uint8Array(16).fill(5),
    // The stranger knows the plan and the world: everything but the secret.
    planHash: PLAN_HASH,
    key: await RunKey.fromSecret(new TextEncoder().encode(secret)),
    timeoutMs: 300,
    admit: () => null,
  }).catch(() => {}).finally(() => {
    try {
      accepted.close();
    } catch { /* closed at the timeout */ }
  });
  const offer = encodeOffer({
    channel: "control",
    rank: 1,
    world: 2,
    target: COORDINATOR,
    runId: new Uint8Array(16),
    planHash: PLAN_HASH,
    nonce: new Uint8Array(32).fill(3),
  });
  if (probe === "garbage") await conn.write(new Uint8Array(64).fill(0x5a));
  if (probe.startsWith("offer")) await conn.write(handshakeFrame(1, offer));
  const received: number[] = [];
  const buffer = new Uint8Array(4096);
  let forged = false;
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      received.push(...buffer.subarray(0, n));
      if (probe === "offer and a forged proof" && !forged) {
        forged = true;
        await conn.write(handshakeFrame(1, encodeProof(new Uint8Array(32).fill(9))));
      }
    }
  } catch { /* reset: what came is what it got */ }
  conn.close();
  await server;
  return Uint8Array.from(received);
}

Deno.test("a stranger gets nothing from the handshake that depends on the secret", async () => {
  const probes: Probe[] = ["nothing", "garbage", "offer", "offer and a forged proof"];
  for (const probe of probes) {
    const one = await withFixedRandomness(() =>
      strangerReceives("0123456789abcdef0123456789abcdef", probe)
    );
    const other = await withFixedRandomness(() =>
      strangerReceives("fedcba9876543210fedcba9876543210", probe)
    );
    assert.deepEqual(
      one,
      other,
      `a stranger who sent ${probe} got bytes that depend on the secret`,
    );
    if (probe.startsWith("offer")) {
      // The check above is not vacuous: the stranger did get an answer (the challenge).
      assert.ok(one.byteLength > 0, `a stranger who sent ${probe} got no answer at all`);
    }
  }
});

Deno.test("a secret of less than 128 bits from the environment or a file is refused, saying how to make one", async () => {
  const folder = await Deno.makeTempDir();
  try {
    const env = (values: Record<string, string>) => ({ get: (name: string) => values[name] });
    const weak = [
      "Tr0ub4dor&3xkcd!", // 16 characters a person chose: the secret that was cracked
      "0123456789abcdef0123456789abcde", // 31 hex digits: 124 bits
      "AAECAwQFBgcICQoLDA0O", // 20 base64 characters: 120 bits
      "a passphrase of many words here", // text a person chose, however long
    ];
    for (const secret of weak) {
      await assert.rejects(
        findSecret({ env: env({ [SECRET_ENV]: secret }) }),
        (error: Error) => {
          assert.match(error.message, new RegExp(`^The run secret from ${SECRET_ENV} is too weak`));
          assert.match(error.message, /at least 128 random bits/);
          assert.match(error.message, /generate one with: openssl rand -hex 32\)$/);
          return true;
        },
      );
      const file = `${folder}/secret`;
      await Deno.writeTextFile(file, `${secret}\n`);
      await assert.rejects(
        findSecret({ env: env({ [SECRET_FILE_ENV]: file }) }),
        /too weak: .*openssl rand -hex 32/,
      );
    }
    // 128 bits and more are taken, in hex or in base64 (16 bytes: 22 characters and padding).
    for (const secret of ["0123456789abcdef0123456789abcdef", "AAECAwQFBgcICQoLDA0ODw=="]) {
      assert.equal(
        (await findSecret({ env: env({ [SECRET_ENV]: ` ${secret}\n` }) }))?.secret,
        secret,
      );
    }
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});
