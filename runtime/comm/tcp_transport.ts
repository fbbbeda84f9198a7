/**
 * The TCP transport: a full mesh of TCP connections between the ranks of a run, one
 * connection per pair used both ways, carrying the frames of `wire.ts`.
 *
 * Forming the mesh: every rank first opens a listener ({@linkcode listenTcp}); the coordinator
 * collects the `host:port` addresses and hands the list to every rank; then
 * {@linkcode connectTcpMesh} connects each rank to every lower rank (the higher rank dials and
 * opens with a hello frame naming itself) and accepts a connection from every higher rank.
 * Once the mesh is complete the listener is closed. Only `Deno.listen`/`Deno.connect` are used,
 * so the same code runs in the main thread, in a Web Worker or in a separate process.
 *
 * Bytes are counted per phase, frame headers included: sent bytes where they are written to the
 * sockets, received bytes (read from the sockets) when a receive takes the message, so a
 * message counts in the step that used it rather than whichever step it happened to arrive in.
 * The hello frames that open connections are not counted (the memory transport has no
 * connections to open). Sockets use `setNoDelay(true)`.
 *
 * @module
 */

import { DEFAULT_PEER_TIMEOUT_MS, Mailbox } from "./_mailbox.ts";
import { messageOf, type SendShaper, TcpMeshTransport } from "./_tcp_mesh.ts";
import { formatAddress } from "./tcp_address.ts";
import { PeerError, type Transport } from "./types.ts";
import { MAX_FRAME_PAYLOAD } from "./wire.ts";

export { formatAddress, parseAddress } from "./tcp_address.ts";
export type { SendShaper } from "./_tcp_mesh.ts";

/** Options of {@linkcode listenTcp}. */
export interface TcpListenOptions {
  /** Interface to bind (default `"127.0.0.1"`). */
  readonly hostname?: string;
  /** Port (default 0: any free port). */
  readonly port?: number;
}

/** An open mesh listener and the address peers dial. */
export interface TcpListening {
  /** The listener; hand it to {@linkcode connectTcpMesh}, which owns and closes it. */
  readonly listener: Deno.TcpListener;
  /** `host:port` of the listener. */
  readonly address: string;
}

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
export function listenTcp(options: TcpListenOptions = {}): TcpListening {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname, port, transport: "tcp" });
  } catch (error) {
    throw new Error(`Cannot listen on ${formatAddress(hostname, port)}: ${messageOf(error)}`, {
      cause: error,
    });
  }
  return { listener, address: formatAddress(listener.addr.hostname, listener.addr.port) };
}

/** Options of {@linkcode connectTcpMesh}. */
export interface TcpMeshOptions {
  /** This rank. */
  readonly rank: number;
  /** Number of ranks. */
  readonly size: number;
  /** This rank's listener, from {@linkcode listenTcp}; the transport owns and closes it. */
  readonly listener: Deno.Listener;
  /** Every rank's `host:port`, in rank order. */
  readonly addresses: readonly string[];
  /** How long a receive waits for a silent peer, in ms (default 20 000). */
  readonly timeoutMs?: number;
  /** How long forming the mesh may take, in ms (default `timeoutMs`). */
  readonly connectTimeoutMs?: number;
  /** Largest frame payload accepted, in bytes (default 1 GiB). */
  readonly maxFramePayload?: number;
  /**
   * A declared network to follow (real mode): every send waits for its link and arrives after the
   * link's latency, as `runtime/network/links.ts` schedules it. Default: send at once.
   */
  readonly shaper?: SendShaper;
}

/**
 * Connects this rank to every other rank and returns its transport.
 *
 * @param options Rank, size, listener, addresses and timeouts.
 * @returns The transport, once a connection to every other rank is open.
 * @throws {Error} "Cannot connect to worker j at host:port: …" when a peer refuses the
 * connection; {@linkcode PeerError} when a peer does not connect within the timeout. The
 * listener and every socket are closed before it throws.
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
  const transport = new TcpMeshTransport(
    rank,
    size,
    listener,
    new Mailbox(size, timeoutMs),
    options.maxFramePayload ?? MAX_FRAME_PAYLOAD,
    options.shaper ?? null,
  );
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
    return transport;
  } catch (error) {
    await transport.close();
    await work.catch(() => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Options of {@linkcode createLocalTcpTransports}. */
export interface LocalTcpOptions {
  /** Interface every rank binds (default `"127.0.0.1"`). */
  readonly hostname?: string;
  /** How long a receive waits for a silent peer, in ms (default 20 000). */
  readonly timeoutMs?: number;
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
      opened.push(listenTcp({ hostname: options.hostname ?? "127.0.0.1" }));
    }
  } catch (error) {
    for (const { listener } of opened) listener.close();
    throw error;
  }
  const addresses = opened.map((o) => o.address);
  const results = await Promise.allSettled(opened.map((o, rank) =>
    connectTcpMesh({
      rank,
      size: n,
      listener: o.listener,
      addresses,
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
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
