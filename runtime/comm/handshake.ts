/**
 * The handshake that opens every connection of a run, worker ↔ coordinator (channel `control`)
 * and worker ↔ worker (channel `mesh`): both sides prove they hold the run's secret with an
 * HMAC-SHA256 challenge–response (WebCrypto), and the side that accepts the connection checks
 * the protocol version, the run id, the ranks, the world size and the hash of the plan before
 * anything else is read from it.
 *
 * Every message is one frame of `wire.ts` of kind {@linkcode FRAME_HELLO}, phase `control`,
 * tag 0, whose source field is the sender's rank ({@linkcode COORDINATOR} for the coordinator).
 * Until the handshake is done a connection is read with a payload limit of
 * {@linkcode HANDSHAKE_MAX_PAYLOAD} bytes, so nothing is allocated from what a stranger claims.
 * Payloads, little-endian (protocol version 3):
 *
 * ```text
 * offer     client → server, 96 bytes
 *   0  4  magic "GSMR"            4  1  version (3)          5  1  type 1
 *   6  1  channel (0 control, 1 mesh)                        7  1  flags (0)
 *   8  2  client rank (u16)      10  2  world size (u16)    12  2  target rank (u16; 0xffff the
 *  14  2  reserved (0)                                             coordinator)
 *  16 16  run id (zeros: not known yet, learnt from the coordinator)
 *  32 32  SHA-256 of the plan (runtime/plan_hash.ts)
 *  64 32  client nonce (random)
 * challenge server → client, 96 bytes
 *   0  4  magic   4  1  version   5  1  type 2   6  1  channel   7  1  flags (0)
 *   8  2  server rank (u16; 0xffff the coordinator)  10  2  world size  12  4  reserved (0)
 *  16 16  run id   32 32  plan hash   64 32  server nonce
 * proof     client → server, 40 bytes
 *   0  4  magic   4  1  version   5  1  type 3   6  2  reserved (0)
 *   8 32  client proof = HMAC-SHA256(secret, "gossamer/3 client\0" ‖ offer ‖ challenge)
 * verdict   server → client, 42 + n bytes (n ≤ 400)
 *   0  4  magic   4  1  version   5  1  type 4   6  1  status (see VERDICT)   7  1  reserved
 *   8 32  server proof = HMAC-SHA256(secret, "gossamer/3 server\0" ‖ offer ‖ challenge ‖
 *         proof ‖ this verdict with these 32 bytes zero); all zeros when the client's proof
 *         failed (status `secret`) or the version differs
 *  40  2  n (u16)   42  n  reason, UTF-8
 * ```
 *
 * The connecting side proves first. A server proves nothing to a connection that has not
 * proved the secret, so a stranger who connects learns no MAC it could test guesses of the
 * secret against offline (version 1 answered every offer with the server's proof: an
 * offline-cracking oracle for anyone who could reach the port). What a stranger gets is the
 * challenge, which holds nothing secret, and an unsigned `secret` verdict. A client sends its
 * proof only to whoever answers at the address it dialled, so an impostor there (someone who
 * took over the address) could test guesses against it: that is why a secret has at least
 * 128 bits (`runtime/auth.ts`), beyond any offline search.
 *
 * Both proofs cover both nonces, so neither can be replayed on another connection, and the two
 * labels differ, so a server's proof is never a client's. The server's proof covers its verdict,
 * so nobody in the path can turn a refusal into an admission or back. The server checks the
 * client's proof before it looks at anything the client claims: a connection that fails before
 * its proof is a stranger (closed, logged, the run goes on); one that proved the secret but was
 * refused (another plan, a rank that is taken) is a member with a wrong configuration, which the
 * caller reports as the failure it is.
 *
 * Everything after the handshake is authenticated too (version 3; version 2 authenticated only
 * the handshake, so someone in the path could rewrite the frames that followed): both sides
 * derive a key per direction from the secret and the handshake ({@linkcode RunKey.session}),
 * and every later frame on the control channel (always) and on the mesh (when the run asks for
 * it) carries a MAC under it with an implicit sequence number (`frame_mac.ts`).
 *
 * @module
 */

import {
  type Channel,
  decodeChallenge,
  decodeOffer,
  decodeProof,
  decodeVerdict,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  encodeChallenge,
  encodeOffer,
  encodeProof,
  encodeVerdict,
  HandshakeError,
  handshakeFrame,
  HandshakeReader,
  MESSAGE_TYPE,
  NONCE_BYTES,
  type Offer,
  PROOF_BYTES,
  ProtocolVersionError,
  rankName,
  RUN_ID_BYTES,
  toHex,
  VERDICT,
  type Verdict,
  VERDICT_PROOF_OFFSET,
  type VerdictStatus,
} from "./handshake_messages.ts";
import { writeAll } from "./write_all.ts";
import { FrameMac, SESSION_KEY_BYTES, type SessionKeys } from "./frame_mac.ts";
import { messageOf } from "../errors.ts";

export * from "./handshake_messages.ts";
export { FRAME_MAC_BYTES, FrameAuthError, FrameMac, type SessionKeys } from "./frame_mac.ts";

/**
 * The key of an unauthenticated mesh, for library users who form a mesh without a secret
 * (benchmarks, tests in one thread): the handshake runs the same way but proves nothing, since
 * this text is public. The runtime always uses a per-run secret.
 */
export const OPEN_SECRET: Uint8Array = new TextEncoder().encode(
  "gossamer: an open mesh without a run secret (not authenticated)",
);

/** The HMAC-SHA256 key of a run, from its secret, and the HKDF key its session keys come from. */
export class RunKey {
  readonly #key: CryptoKey;
  readonly #hkdf: CryptoKey;

  private constructor(key: CryptoKey, hkdf: CryptoKey) {
    this.#key = key;
    this.#hkdf = hkdf;
  }

  /**
   * Imports a secret as an HMAC-SHA256 key (not extractable).
   *
   * @param secret The run's secret bytes (at least one).
   * @returns The key.
   */
  static async fromSecret(secret: Uint8Array): Promise<RunKey> {
    if (secret.byteLength === 0) throw new RangeError("A run secret cannot be empty");
    const [key, hkdf] = await Promise.all([
      crypto.subtle.importKey(
        "raw",
        secret.slice(),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign", "verify"],
      ),
      crypto.subtle.importKey("raw", secret.slice(), "HKDF", false, ["deriveBits"]),
    ]);
    return new RunKey(key, hkdf);
  }

  /**
   * The frame keys of one connection, one per direction: HKDF-SHA256 of the secret, salted
   * with both nonces, with the direction and the whole offer and challenge (channel, ranks,
   * world, run id, plan hash, nonces) as info, so no two connections or directions share a key.
   *
   * @param side Which side of the handshake this is.
   * @param offer The client's offer, as sent.
   * @param challenge The server's challenge, as sent.
   * @returns This side's keys: `send` for what it writes, `receive` for what it reads.
   */
  async session(
    side: "client" | "server",
    offer: Uint8Array,
    challenge: Uint8Array,
  ): Promise<SessionKeys> {
    const salt = transcript("", [offer.subarray(NONCE_OFFSET), challenge.subarray(NONCE_OFFSET)]);
    const derive = async (direction: string) =>
      new Uint8Array(
        await crypto.subtle.deriveBits(
          { name: "HKDF", hash: "SHA-256", salt, info: transcript(direction, [offer, challenge]) },
          this.#hkdf,
          8 * SESSION_KEY_BYTES,
        ),
      );
    const [up, down] = await Promise.all([derive(UP_LABEL), derive(DOWN_LABEL)]);
    return side === "client"
      ? { send: new FrameMac(up), receive: new FrameMac(down) }
      : { send: new FrameMac(down), receive: new FrameMac(up) };
  }

  /** HMAC of `label ‖ 0 ‖ parts`. */
  async sign(label: string, ...parts: Uint8Array[]): Promise<Uint8Array> {
    return new Uint8Array(await crypto.subtle.sign("HMAC", this.#key, transcript(label, parts)));
  }

  /** Whether `mac` is the HMAC of `label ‖ 0 ‖ parts` (compared by WebCrypto). */
  verify(label: string, mac: Uint8Array, ...parts: Uint8Array[]): Promise<boolean> {
    return crypto.subtle.verify("HMAC", this.#key, mac.slice(), transcript(label, parts));
  }
}

function transcript(label: string, parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const head = new TextEncoder().encode(`${label}\0`);
  const total = parts.reduce((sum, part) => sum + part.byteLength, head.byteLength);
  const bytes = new Uint8Array(total);
  bytes.set(head);
  let at = head.byteLength;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.byteLength;
  }
  return bytes;
}

const SERVER_LABEL = "gossamer/3 server";
const CLIENT_LABEL = "gossamer/3 client";
/** HKDF info labels of the two directions of a connection. */
const UP_LABEL = "gossamer/3 frames client to server";
const DOWN_LABEL = "gossamer/3 frames server to client";
/** Where the nonce sits in an offer and in a challenge. */
const NONCE_OFFSET = 64;

/** What both sides of a handshake know. */
export interface HandshakeIdentity {
  /** The run's key (a promise while it is imported). */
  readonly key: RunKey | Promise<RunKey>;
  /**
   * The SHA-256 of the plan, {@linkcode PLAN_HASH_BYTES} bytes (a promise while it is computed:
   * waiting for it counts against the timeout).
   */
  readonly planHash: Uint8Array | Promise<Uint8Array>;
  /** The number of workers. */
  readonly world: number;
  /** The most the whole handshake may take, in ms (default 5 s). */
  readonly timeoutMs?: number;
}

/** Options of {@linkcode clientHandshake}. */
export interface ClientHandshakeOptions extends HandshakeIdentity {
  readonly channel: Channel;
  /** The connecting worker's rank. */
  readonly rank: number;
  /** The rank it means to reach ({@linkcode COORDINATOR} for the coordinator). */
  readonly target: number;
  /** The run id, or `null` to learn it from the coordinator (control channel only). */
  readonly runId: Uint8Array | null;
}

/** What a completed handshake gives the client. */
export interface ClientHandshake {
  /** The run id (learnt from the server when the client did not know it). */
  readonly runId: Uint8Array;
  /** Bytes read after the verdict: the start of the authenticated stream. */
  readonly leftover: Uint8Array;
  /** The keys of the frames that follow (`frame_mac.ts`). */
  readonly session: SessionKeys;
}

/** Options of {@linkcode serverHandshake}. */
export interface ServerHandshakeOptions extends HandshakeIdentity {
  readonly channel: Channel;
  /** This side's rank ({@linkcode COORDINATOR} for the coordinator). */
  readonly rank: number;
  /** The run id. */
  readonly runId: Uint8Array;
  /**
   * Decides on an authenticated offer whose channel, world size, run id, target and plan
   * already matched: `null` admits it, a verdict refuses it (a rank out of range or taken).
   */
  readonly admit: (offer: Offer) => Verdict | null;
  /**
   * Hears how far the connection got, so that a bounded set of pending handshakes closes the
   * least advanced first: `offer` once a well-formed offer came in (with whether it names this
   * run's plan), `proved` once the client proved the secret (a member, as early as the
   * protocol can tell).
   */
  readonly progress?: (stage: "offer" | "proved", matchesPlan: boolean) => void;
}

/** What a completed handshake gives the server. */
export interface ServerHandshake {
  /** The client's offer: its rank, above all. */
  readonly offer: Offer;
  /** Bytes read after the proof: the start of the authenticated stream. */
  readonly leftover: Uint8Array;
  /** The keys of the frames that follow (`frame_mac.ts`). */
  readonly session: SessionKeys;
}

const ZERO_RUN_ID = new Uint8Array(RUN_ID_BYTES);

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i]);
}

function randomBytes(bytes: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(bytes));
}

/**
 * Runs `work` on `conn` within `timeoutMs`: when the time is up the connection is closed (which
 * ends any read), and the failure says the handshake took too long.
 */
async function withinTimeout<T>(
  conn: Deno.Conn,
  timeoutMs: number,
  work: () => Promise<T>,
): Promise<T> {
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch { /* already closed */ }
  }, timeoutMs);
  try {
    return await work();
  } catch (error) {
    if (timedOut) {
      throw new HandshakeError(
        `did not complete the handshake within ${timeoutMs} ms`,
        false,
        null,
        true,
      );
    }
    if (error instanceof HandshakeError) throw error;
    // A reset or a failed write: the connection broke, nobody decided anything.
    throw new HandshakeError(`failed during the handshake: ${messageOf(error)}`, false, null, true);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The connecting side's handshake: offer, read the challenge, prove, then read the verdict and
 * check the server's proof over it.
 *
 * @param conn A fresh connection.
 * @param options Identity, channel, ranks and timeout.
 * @returns The run id and the bytes read after the verdict.
 * @throws {HandshakeError} When the server refuses this side's proof (status `secret`: another
 * secret), fails its own proof (`member` false: not our run), or refuses this side (`member`
 * true, with the verdict's status and reason), or the connection breaks or times out first
 * (`interrupted` true). The caller closes the connection.
 */
export function clientHandshake(
  conn: Deno.Conn,
  options: ClientHandshakeOptions,
): Promise<ClientHandshake> {
  return withinTimeout(conn, options.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, async () => {
    const reader = new HandshakeReader();
    const [key, planHash] = await Promise.all([options.key, options.planHash]);
    const offer = encodeOffer({
      channel: options.channel,
      rank: options.rank,
      world: options.world,
      target: options.target,
      runId: options.runId ?? ZERO_RUN_ID,
      planHash,
      nonce: randomBytes(NONCE_BYTES),
    });
    await writeAll(conn, handshakeFrame(options.rank, offer));
    const answer = await reader.next(conn);
    // A verdict in place of a challenge: refused before any proof (another version).
    if (answer.payload[5] === MESSAGE_TYPE.verdict) {
      const verdict = decodeVerdict(answer.payload);
      throw new HandshakeError(`refused the connection: ${verdict.reason}`, false, verdict.status);
    }
    const challenge = answer.payload;
    const { channel, rank, runId } = decodeChallenge(challenge);
    if (channel !== options.channel || rank !== options.target) {
      throw new HandshakeError(
        `answered as ${rankName(rank)} on the ${channel} channel, not as ${
          rankName(options.target)
        } on the ${options.channel} channel`,
      );
    }
    const proof = encodeProof(await key.sign(CLIENT_LABEL, offer, challenge));
    await writeAll(conn, handshakeFrame(options.rank, proof));
    const verdictBytes = (await reader.next(conn)).payload;
    const verdict = decodeVerdict(verdictBytes);
    if (verdict.status === VERDICT.secret) {
      throw new HandshakeError(
        "refused this side's proof: the two sides hold different secrets (another run?)",
        false,
        verdict.status,
      );
    }
    const unsigned = verdictBytes.slice();
    unsigned.fill(0, VERDICT_PROOF_OFFSET, VERDICT_PROOF_OFFSET + PROOF_BYTES);
    if (!await key.verify(SERVER_LABEL, verdict.proof, offer, challenge, proof, unsigned)) {
      throw new HandshakeError(
        "failed to prove the run secret (another run, or a different secret)",
      );
    }
    if (verdict.status !== VERDICT.accepted) {
      throw new HandshakeError(verdict.reason, true, verdict.status);
    }
    const session = await key.session("client", offer, challenge);
    return { runId, leftover: reader.leftover(), session };
  });
}

/**
 * The accepting side's handshake: read the offer, send a challenge, check the client's proof,
 * then check what the client claims and send the verdict with this side's proof. A client that
 * fails its proof gets an unsigned `secret` verdict: nothing derived from the secret.
 *
 * @param conn A freshly accepted connection.
 * @param options Identity, channel, this side's rank, the admission rule and timeout.
 * @returns The client's offer and the bytes read after its proof.
 * @throws {HandshakeError} `member` false for a stranger (anything before a valid proof, or a
 * timeout), `member` true with a status for an authenticated client that was refused (another
 * plan, world size, run or an inadmissible rank); the verdict has been sent then. The caller
 * closes the connection.
 */
export function serverHandshake(
  conn: Deno.Conn,
  options: ServerHandshakeOptions,
): Promise<ServerHandshake> {
  return withinTimeout(conn, options.timeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, async () => {
    const reader = new HandshakeReader();
    const first = await reader.next(conn);
    let offer: Offer;
    try {
      offer = decodeOffer(first.payload);
    } catch (error) {
      // Another version of gossamer learns why; anything else just gets closed.
      if (error instanceof ProtocolVersionError) {
        await writeAll(
          conn,
          handshakeFrame(
            options.rank,
            encodeVerdict({ status: VERDICT.version, reason: error.message }),
          ),
        ).catch(() => {});
      }
      throw error;
    }
    const [key, planHash] = await Promise.all([options.key, options.planHash]);
    options.progress?.("offer", equalBytes(offer.planHash, planHash));
    const challenge = encodeChallenge({
      channel: options.channel,
      rank: options.rank,
      world: options.world,
      runId: options.runId,
      planHash,
      nonce: randomBytes(NONCE_BYTES),
    });
    await writeAll(conn, handshakeFrame(options.rank, challenge));
    const proof = (await reader.next(conn)).payload;
    const clientProof = decodeProof(proof);
    if (!await key.verify(CLIENT_LABEL, clientProof, first.payload, challenge)) {
      await writeAll(
        conn,
        handshakeFrame(
          options.rank,
          encodeVerdict({ status: VERDICT.secret, reason: "the proof of the secret failed" }),
        ),
      ).catch(() => {});
      throw new HandshakeError(
        "failed to prove the run secret (a stranger, another run, or a different secret)",
      );
    }
    options.progress?.("proved", true);
    const verdict = encodeVerdict(judge(offer, planHash, options));
    verdict.set(
      await key.sign(SERVER_LABEL, first.payload, challenge, proof, verdict),
      VERDICT_PROOF_OFFSET,
    );
    await writeAll(conn, handshakeFrame(options.rank, verdict));
    const { status, reason } = decodeVerdict(verdict);
    if (status !== VERDICT.accepted) throw new HandshakeError(reason, true, status);
    const session = await key.session("server", first.payload, challenge);
    return { offer, leftover: reader.leftover(), session };
  });
}

/** The server's checks on an authenticated offer. */
function judge(offer: Offer, planHash: Uint8Array, options: ServerHandshakeOptions): Verdict {
  const who = rankName(offer.rank);
  const refuse = (status: VerdictStatus, reason: string): Verdict => ({ status, reason });
  if (offer.channel !== options.channel) {
    return refuse(
      VERDICT.other,
      `${capitalised(who)} opened a ${offer.channel} connection to ${
        rankName(options.rank)
      }, which takes ${options.channel} connections`,
    );
  }
  if (!equalBytes(offer.planHash, planHash)) {
    return refuse(
      VERDICT.plan,
      `${capitalised(who)} was started with a different plan than ${
        rankName(options.rank)
      } (plan hash ${toHex(offer.planHash).slice(0, 12)}… against ${
        toHex(planHash).slice(0, 12)
      }…): start every worker with the same plan`,
    );
  }
  if (offer.world !== options.world) {
    return refuse(
      VERDICT.world,
      `${capitalised(who)} expects ${offer.world} workers but ${
        rankName(options.rank)
      } expects ${options.world}`,
    );
  }
  const learns = options.channel === "control" && equalBytes(offer.runId, ZERO_RUN_ID);
  if (!learns && !equalBytes(offer.runId, options.runId)) {
    return refuse(
      VERDICT.run,
      `${capitalised(who)} belongs to run ${toHex(offer.runId)}, not to run ${
        toHex(options.runId)
      }`,
    );
  }
  if (offer.target !== options.rank) {
    return refuse(
      VERDICT.rank,
      `${capitalised(who)} meant to reach ${rankName(offer.target)}, not ${rankName(options.rank)}`,
    );
  }
  return options.admit(offer) ?? { status: VERDICT.accepted, reason: "" };
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
