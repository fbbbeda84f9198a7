/**
 * The TCP transport: a full mesh of TCP connections between the ranks of a run, one
 * connection per pair used both ways, carrying the frames of `wire.ts`.
 *
 * Forming the mesh: every rank first opens a listener ({@linkcode listenTcp}); the coordinator
 * collects the `host:port` addresses and hands the list to every rank; then
 * {@linkcode connectTcpMesh} connects each rank to every lower rank (the higher rank dials)
 * and accepts a connection from every higher rank. Every connection opens with the
 * authenticated handshake of `handshake.ts`: both ends prove they hold the run's secret, and
 * the accepting end checks the run id, the ranks, the world size and the plan's hash.
 * Connections that fail it are closed and logged while the mesh keeps forming. Once the mesh is
 * complete the listener is closed. Only `Deno.listen`/`Deno.connect` (or their TLS versions)
 * are used, so the same code runs in the main thread, in a Web Worker or in a separate process.
 *
 * A mesh over some of the ranks ({@linkcode TcpMeshOptions.members}) is how an elastic run goes
 * on after losing a worker: the survivors form a fresh mesh among themselves on fresh listeners,
 * keeping their ranks and the run's world size, and the lost ranks are never dialled or
 * accepted. Its communicator starts with those members set, so its collectives are those of a
 * run of the members.
 *
 * Bytes are counted per phase, frame headers included: sent bytes where they are written to the
 * sockets, received bytes (read from the sockets) when a receive takes the message, so a
 * message counts in the step that used it rather than whichever step it happened to arrive in.
 * The handshake frames that open connections and the heartbeats are not counted (the memory
 * transport has neither). Sockets use `setNoDelay(true)`.
 *
 * @module
 */

import { DEFAULT_PEER_TIMEOUT_MS, Mailbox, type MailboxLimits } from "./_mailbox.ts";
import { checkMembers } from "./_members.ts";
import { type SendShaper, TcpMeshTransport } from "./_tcp_mesh.ts";
import {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  OPEN_SECRET,
  PLAN_HASH_BYTES,
  RUN_ID_BYTES,
  RunKey,
} from "./handshake.ts";
import { listenOn, type TlsPem } from "./net.ts";
import { formatAddress } from "./tcp_address.ts";
import { PeerError, type Transport } from "./types.ts";
import { rateLimited, type Warn, warnToStderr } from "./warnings.ts";
import { MAX_FRAME_PAYLOAD } from "./wire.ts";
import { messageOf } from "../errors.ts";

export { formatAddress, parseAddress } from "./tcp_address.ts";
export type { SendShaper } from "./_tcp_mesh.ts";
export type { MailboxLimits } from "./_mailbox.ts";
export type { TlsPem } from "./net.ts";
export type { Warn } from "./warnings.ts";

/** Options of {@linkcode listenTcp}. */
export interface TcpListenOptions {
  /** Interface to bind (default `"127.0.0.1"`: only this host can connect). */
  readonly hostname?: string;
  /** Port (default 0: any free port). */
  readonly port?: number;
  /** Listen with TLS, presenting this certificate chain and key (PEM). Default: plain TCP. */
  readonly tls?: TlsPem;
}

/** An open mesh listener and the address peers dial. */
export interface TcpListening<L extends Deno.Listener = Deno.Listener> {
  /** The listener; hand it to {@linkcode connectTcpMesh}, which owns and closes it. */
  readonly listener: L;
  /** `host:port` of the listener. */
  readonly address: string;
}

/** Options of {@linkcode listenTcp} without TLS: the listener is a plain TCP one. */
export type PlainTcpListenOptions = Omit<TcpListenOptions, "tls"> & { readonly tls?: undefined };

/**
 * Opens the listener a rank's peers connect to.
 *
 * @param options Interface and port.
 * @returns The listener and its `host:port`.
 * @throws {Error} "Cannot listen on host:port: …" when the port is busy or the address is not
 * usable.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const { listener, address } = listenTcp();
 * assert.match(address, /^127\.0\.0\.1:\d+$/);
 * listener.close();
 * ```
 */
export function listenTcp(options?: PlainTcpListenOptions): TcpListening<Deno.TcpListener>;
/**
 * Opens the listener a rank's peers connect to, over TLS when `options.tls` is given.
 *
 * @param options Interface, port and TLS material.
 * @returns The listener and its `host:port`.
 * @throws {Error} "Cannot listen on host:port: …" when the port is busy, the address is not
 * usable or the TLS material is incomplete.
 */
export function listenTcp(options: TcpListenOptions): TcpListening;
export function listenTcp(
  options: TcpListenOptions | PlainTcpListenOptions = {},
): TcpListening {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  let listener: Deno.Listener;
  try {
    listener = listenOn(hostname, port, options.tls ?? null);
  } catch (error) {
    throw new Error(`Cannot listen on ${formatAddress(hostname, port)}: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const local = listener.addr as Deno.NetAddr;
  return { listener, address: formatAddress(local.hostname, local.port) };
}

/** Options of {@linkcode connectTcpMesh}. */
export interface TcpMeshOptions {
  /** This rank. */
  readonly rank: number;
  /** Number of ranks. */
  readonly size: number;
  /** This rank's listener, from {@linkcode listenTcp}; the transport owns and closes it. */
  readonly listener: Deno.Listener;
  /**
   * Every rank's `host:port`, in rank order (`size` entries); those of non-members are not read
   * and may be `""`.
   */
  readonly addresses: readonly string[];
  /**
   * The ranks this mesh joins: distinct, ascending, this rank among them (default every rank).
   * The rest are never dialled, accepted or sent to, and one that dials in is refused (warned
   * about; the mesh still forms). Ranks keep their numbers and `size` stays the run's, so that
   * survivors of a lost worker can go on with the same plan.
   */
  readonly members?: readonly number[];
  /**
   * How long a receive waits for a silent peer, in ms (default 20 000): silent means no byte of
   * any kind from it, heartbeats included.
   */
  readonly timeoutMs?: number;
  /** How long forming the mesh may take, in ms (default `timeoutMs`). */
  readonly connectTimeoutMs?: number;
  /**
   * Largest frame payload accepted from an authenticated peer, in bytes (default 1 GiB; the
   * runtime derives it from the plan). Before authentication the limit is a few hundred bytes.
   */
  readonly maxFramePayload?: number;
  /**
   * A declared network to follow (real mode): every send waits for its link and arrives after the
   * link's latency, as `runtime/network/links.ts` schedules it. Default: send at once.
   */
  readonly shaper?: SendShaper;
  /**
   * The run's secret: every connection proves it holds it. Default: a public key, so the
   * handshake runs but proves nothing (tests, benchmarks in one process); the runtime always
   * passes a per-run secret.
   */
  readonly secret?: Uint8Array;
  /** The run id, 16 bytes, the same on every rank (default zeros). */
  readonly runId?: Uint8Array;
  /** The plan's SHA-256, 32 bytes, compared by every handshake (default zeros). */
  readonly planHash?: Uint8Array;
  /** How long a connection may take to complete its handshake, in ms (default 5 000). */
  readonly handshakeTimeoutMs?: number;
  /**
   * Send a heartbeat to every peer nothing was written to for this long, in ms; pick it well
   * under `timeoutMs`. Default: no heartbeats, so a receive times out after `timeoutMs` of the
   * peer's silence, however busy the peer is.
   */
  readonly heartbeatMs?: number;
  /** Dial peers over TLS, trusting these CA certificates (the listener must use TLS too). */
  readonly tls?: TlsPem;
  /** Where warnings about refused connections go (default: standard error, rate-limited). */
  readonly warn?: Warn;
  /** Bounds on what a peer may leave queued (default: none). */
  readonly limits?: MailboxLimits;
  /**
   * Follow every frame after the handshake with a MAC under a per-connection, per-direction
   * key (`frame_mac.ts`), so that a frame altered, forged, replayed, reordered or dropped in
   * the path fails the peer (default `false`: 16 more bytes per frame and an HMAC over every
   * byte; TLS also gives confidentiality). Every rank must choose the same.
   */
  readonly macFrames?: boolean;
}

/**
 * Connects this rank to every other rank (or member) and returns its transport.
 *
 * @param options Rank, size, listener, addresses, members and timeouts.
 * @returns The transport, once a connection to every other member is open; its `members` are
 * the members.
 * @throws {RangeError} Before connecting anything, when the rank, size, addresses or members
 * are not usable ("Invalid members [1, 0]: …"). {@linkcode Error} "Cannot connect to worker j at
 * host:port: …" when a peer refuses the connection; {@linkcode PeerError} when a peer does not
 * connect within the timeout. The listener and every socket are closed before it throws.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const opened = [listenTcp(), listenTcp()];
 * const addresses = opened.map((o) => o.address);
 * const [a, b] = await Promise.all(
 *   opened.map((o, rank) => connectTcpMesh({ rank, size: 2, listener: o.listener, addresses })),
 * );
 * await a!.send(1, 3, new Uint8Array([42]), "control");
 * assert.deepEqual([...await b!.recv(0, 3)], [42]);
 * await Promise.all([a!.close(), b!.close()]);
 * ```
 */
export async function connectTcpMesh(options: TcpMeshOptions): Promise<Transport> {
  const { rank, size, listener, addresses } = options;
  if (!Number.isInteger(size) || size < 1 || size > 0xffff) {
    listener.close();
    throw new RangeError(`Cannot form a TCP mesh: size must be 1..65535, got ${size}`);
  }
  if (!Number.isInteger(rank) || rank < 0 || rank >= size || addresses.length !== size) {
    listener.close();
    throw new RangeError(
      `Cannot form a TCP mesh: rank ${rank} of ${size} with ${addresses.length} addresses`,
    );
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
  const connectTimeoutMs = options.connectTimeoutMs ?? timeoutMs;
  let key: RunKey;
  let members: readonly number[];
  try {
    members = options.members === undefined
      ? Array.from({ length: size }, (_, peer) => peer)
      : checkMembers(options.members, rank, size);
    checkLength("run id", options.runId, RUN_ID_BYTES);
    checkLength("plan hash", options.planHash, PLAN_HASH_BYTES);
    checkPositive("handshake timeout", options.handshakeTimeoutMs);
    checkPositive("heartbeat period", options.heartbeatMs);
    key = await RunKey.fromSecret(options.secret ?? OPEN_SECRET);
  } catch (error) {
    listener.close();
    throw error;
  }
  const transport = new TcpMeshTransport({
    rank,
    size,
    listener,
    mailbox: new Mailbox(size, timeoutMs, options.limits),
    maxPayload: options.maxFramePayload ?? MAX_FRAME_PAYLOAD,
    shaper: options.shaper ?? null,
    heartbeatMs: options.heartbeatMs ?? null,
    members,
    security: {
      key,
      runId: options.runId ?? new Uint8Array(RUN_ID_BYTES),
      planHash: options.planHash ?? new Uint8Array(PLAN_HASH_BYTES),
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
      tls: options.tls ?? null,
      warn: options.warn ?? rateLimited(warnToStderr),
      macFrames: options.macFrames ?? false,
    },
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    if (!Number.isFinite(connectTimeoutMs)) return;
    timer = setTimeout(() => {
      const missing = transport.missingPeers();
      reject(
        new PeerError(missing[0] ?? rank, `did not connect within ${connectTimeoutMs} ms`),
      );
    }, connectTimeoutMs);
  });
  const work = Promise.all([transport.acceptHigher(), transport.dialLower(addresses)]);
  try {
    await Promise.race([work, deadline]);
    listener.close();
    transport.startHeartbeats();
    return transport;
  } catch (error) {
    await transport.close();
    await work.catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** A byte field's length, when given. */
function checkLength(name: string, value: Uint8Array | undefined, bytes: number): void {
  if (value !== undefined && value.byteLength !== bytes) {
    throw new RangeError(
      `Cannot form a TCP mesh: the ${name} has ${bytes} bytes, got ${value.byteLength}`,
    );
  }
}

/** A duration, when given. */
function checkPositive(name: string, value: number | undefined): void {
  if (value !== undefined && !(value > 0)) {
    throw new RangeError(`Cannot form a TCP mesh: the ${name} must be positive, got ${value}`);
  }
}

/** Options of {@linkcode createLocalTcpTransports}. */
export interface LocalTcpOptions {
  /** Interface every rank binds (default `"127.0.0.1"`). */
  readonly hostname?: string;
  /** How long a receive waits for a silent peer, in ms (default 20 000). */
  readonly timeoutMs?: number;
  /** Heartbeat period, ms (default: none; see {@linkcode TcpMeshOptions.heartbeatMs}). */
  readonly heartbeatMs?: number;
  /** TLS for every listener and connection: a certificate, its key and the CA to trust. */
  readonly tls?: TlsPem;
}

/**
 * Forms a TCP mesh of `n` ranks inside this thread, each on its own port: for tests and for
 * checking that the TCP path gives the same results as the memory transport.
 *
 * @param n Number of ranks.
 * @param options Interface and receive timeout.
 * @returns One connected transport per rank, in rank order; close all of them when done.
 * @throws {Error} When a listener cannot be opened or the mesh cannot be formed.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const transports = await createLocalTcpTransports(3);
 * await transports[2]!.send(0, 1, new Uint8Array([7]), "base");
 * assert.deepEqual([...await transports[0]!.recv(2, 1)], [7]);
 * await Promise.all(transports.map((transport) => transport.close()));
 * ```
 */
export async function createLocalTcpTransports(
  n: number,
  options: LocalTcpOptions = {},
): Promise<Transport[]> {
  const opened: TcpListening[] = [];
  try {
    for (let rank = 0; rank < n; rank++) {
      opened.push(listenTcp({
        hostname: options.hostname ?? "127.0.0.1",
        ...(options.tls === undefined ? {} : { tls: options.tls }),
      }));
    }
  } catch (error) {
    for (const { listener } of opened) listener.close();
    throw error;
  }
  const addresses = opened.map((o) => o.address);
  // The ranks share this thread, so they share a fresh secret and run id.
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const runId = crypto.getRandomValues(new Uint8Array(RUN_ID_BYTES));
  const results = await Promise.allSettled(opened.map((o, rank) =>
    connectTcpMesh({
      rank,
      size: n,
      listener: o.listener,
      addresses,
      secret,
      runId,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
    })
  ));
  const transports = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) {
    await Promise.all(transports.map((transport) => transport.close()));
    throw failed.reason;
  }
  return transports;
}
