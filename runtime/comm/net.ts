/**
 * Opening listeners and connections, plain TCP or TLS, for the mesh and the control channel
 * alike. TLS is optional and adds confidentiality and the server's identity; membership is
 * proved by the handshake's HMAC either way (`handshake.ts`).
 *
 * Certificates are PEM text. A listener needs a certificate chain and its key; a dialler checks
 * the listener's certificate against the given CA certificates (in addition to the system's
 * roots) and against the host name it dials, so a certificate must name every address it is
 * reached at (for loopback: `IP:127.0.0.1`).
 *
 * @module
 */

import { formatAddress, parseAddress } from "./tcp_address.ts";
import { messageOf } from "../errors.ts";

/** TLS material of one process, as PEM text. */
export interface TlsPem {
  /** This process's certificate chain: listeners present it. */
  readonly cert?: string;
  /** The private key of `cert`. */
  readonly key?: string;
  /** CA certificates that peers' certificates are checked against (self-signed: the cert). */
  readonly caCerts?: readonly string[];
}

/** A TLS handshake failed: a certificate not trusted or not matching, not a port not open. */
export class TlsHandshakeError extends Error {
  /**
   * @param message What failed.
   * @param cause The error of the TLS layer.
   * @param interrupted True when the connection was closed, reset or timed out during the TLS
   *   handshake rather than refused (a listener making room in a flood): worth dialling again.
   */
  constructor(message: string, cause: unknown, readonly interrupted = false) {
    super(message, { cause });
    this.name = "TlsHandshakeError";
  }
}

/**
 * Opens a listener, over TLS when `tls` is given.
 *
 * @param hostname Interface to bind.
 * @param port Port (0: any free port).
 * @param tls Certificate and key for TLS, or `null` for plain TCP.
 * @returns The listener.
 * @throws {Error} When TLS lacks its certificate or key, or the address cannot be bound (the
 * error of `Deno.listen`).
 */
export function listenOn(hostname: string, port: number, tls: TlsPem | null): Deno.Listener {
  if (tls === null) return Deno.listen({ hostname, port, transport: "tcp" });
  if (tls.cert === undefined || tls.key === undefined) {
    throw new Error(
      `Cannot listen with TLS on ${
        formatAddress(hostname, port)
      }: a certificate and its key are needed`,
    );
  }
  return Deno.listenTls({ hostname, port, transport: "tcp", cert: tls.cert, key: tls.key });
}

/**
 * A connect that did not complete within its bound: the listener's accept queue is full (a
 * connect flood: the kernel drops new connections' first packets, then retransmits them only
 * after 1, 3, 7, 15… seconds) or the host does not answer. Worth dialling again at once: a fresh
 * attempt competes for the next free place in the queue instead of waiting out the kernel's
 * backoff.
 */
export class ConnectTimeoutError extends Error {
  /** Always true: dial again. */
  readonly interrupted = true;

  /**
   * @param address What was dialled.
   * @param timeoutMs The bound it did not complete within.
   */
  constructor(address: string, timeoutMs: number) {
    super(`connecting to ${address} did not complete within ${timeoutMs} ms`);
    this.name = "ConnectTimeoutError";
  }
}

/**
 * Connects to `host:port`, over TLS when `tls` is given; sets `TCP_NODELAY` where it can.
 *
 * @param address `host:port`.
 * @param tls The CA certificates to trust, or `null` for plain TCP.
 * @param tlsTimeoutMs The most the TLS handshake may take (a listener that closed the
 *   connection mid-handshake may leave it waiting otherwise).
 * @param connectTimeoutMs The most the TCP connect itself may take (see
 *   {@linkcode ConnectTimeoutError}).
 * @returns The connection (for TLS, its TLS handshake is done).
 * @throws {Error} The connection's error (refused, unreachable); {@linkcode ConnectTimeoutError}
 * when the connect takes longer than its bound; {@linkcode TlsHandshakeError} when the TLS
 * handshake fails (a certificate not trusted).
 */
export async function dial(
  address: string,
  tls: TlsPem | null,
  tlsTimeoutMs = DEFAULT_TLS_TIMEOUT_MS,
  connectTimeoutMs = CONNECT_ATTEMPT_MS,
): Promise<Deno.Conn> {
  const { hostname, port } = parseAddress(address);
  if (tls === null) {
    const conn = await connectWithin(
      address,
      connectTimeoutMs,
      (signal) => Deno.connect({ hostname, port, transport: "tcp", signal }),
    );
    noDelay(conn);
    return conn;
  }
  // TLS's connect takes no signal: one that completes after its bound is closed when it does.
  const conn = await connectWithin(address, connectTimeoutMs, () =>
    Deno.connectTls({
      hostname,
      port,
      ...(tls.caCerts === undefined ? {} : { caCerts: [...tls.caCerts] }),
    }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const handshake = conn.handshake();
  handshake.catch(() => {/* handled below, or abandoned at the timeout */});
  try {
    await Promise.race([
      handshake,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(new Error(`it did not complete within ${tlsTimeoutMs} ms`));
        }, tlsTimeoutMs);
      }),
    ]);
  } catch (error) {
    try {
      conn.close();
    } catch { /* closed */ }
    throw new TlsHandshakeError(
      `TLS handshake with ${address} failed: ${messageOf(error)}`,
      error,
      timedOut || isBrokenConnection(error),
    );
  } finally {
    clearTimeout(timer);
  }
  return conn;
}

/**
 * Runs a connect, abandoning it after `timeoutMs`: the signal aborts it (plain TCP), and a
 * connection that opens after the bound anyway is closed.
 */
async function connectWithin<C extends Deno.Conn>(
  address: string,
  timeoutMs: number,
  connect: (signal: AbortSignal) => Promise<C>,
): Promise<C> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connecting = connect(abort.signal);
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      connecting.then(closeQuietly, () => {/* aborted, as asked */});
      reject(new ConnectTimeoutError(address, timeoutMs));
    }, timeoutMs);
  });
  try {
    return await Promise.race([connecting, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * How long one connect may take before it is abandoned and dialled again: a kernel whose first
 * packet was dropped retransmits it after 1 s, so 2 s allows one retransmission and then starts
 * afresh, where the kernel alone would wait 3 s more, then 7 s, then 15 s.
 */
export const CONNECT_ATTEMPT_MS = 2_000;

/** How long a TLS handshake may take by default: 5 s, as gossamer's own handshake. */
const DEFAULT_TLS_TIMEOUT_MS = 5_000;

/** Whether an error says the connection broke (closed, reset) rather than refused a certificate. */
function isBrokenConnection(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted ||
    error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.UnexpectedEof ||
    error instanceof Deno.errors.NotConnected ||
    /\b(eof|reset|broken pipe|closed)\b/i.test(messageOf(error));
}

/**
 * Turns Nagle's algorithm off on a TCP connection (small frames go out at once); TLS
 * connections do not expose the option and keep the default.
 *
 * @param conn A connection.
 */
export function noDelay(conn: Deno.Conn): void {
  const tcp = conn as Partial<Deno.TcpConn>;
  if (typeof tcp.setNoDelay === "function") {
    try {
      tcp.setNoDelay(true);
    } catch { /* closed already */ }
  }
}

/**
 * The remote address of a connection as `host:port`, for warnings.
 *
 * @param conn A connection.
 * @returns Its peer's address, or `"an unknown address"`.
 */
export function remoteOf(conn: Deno.Conn): string {
  try {
    const remote = conn.remoteAddr as Deno.NetAddr;
    return formatAddress(remote.hostname, remote.port);
  } catch {
    return "an unknown address";
  }
}

/**
 * Closes a connection, ignoring one already closed.
 *
 * @param conn The connection.
 */
export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
