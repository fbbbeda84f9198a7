/**
 * Where a worker's mesh listener binds and which address its peers are told to dial. Both
 * default to the local address of the worker's connection to the coordinator: the address this
 * host used to reach the run, so the one that leads back to it (loopback when everything runs
 * on one host, the cluster interface across hosts, its own address in a network namespace). A
 * listener bound to a wildcard (`0.0.0.0`, `::`) is advertised under that address too, never as
 * the wildcard, which no peer can dial.
 *
 * @module
 */

/** Whether an address stands for every interface (it cannot be dialled). */
function isWildcard(host: string): boolean {
  return ["0.0.0.0", "::", ""].includes(host);
}

/** A host without the brackets of an IPv6 address written for a URL or `host:port`. */
function unbracketed(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/**
 * The local address of a connection, an IPv4-mapped IPv6 address written as IPv4; `null` when
 * the connection does not say.
 */
export function localHostOf(conn: Deno.Conn): string | null {
  try {
    const local = conn.localAddr as Deno.NetAddr;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(local.hostname);
    return mapped === null ? local.hostname : mapped[1]!;
  } catch {
    return null;
  }
}

/**
 * Where the mesh listener binds and what peers are told to dial: the flags where given, else
 * the local address of the connection that reached the coordinator (see the module's doc).
 *
 * @param launch The worker's `host` and `advertise`.
 * @param local The control connection's local address, if known.
 * @returns The addresses, or why no address can be advertised.
 */
export function meshHosts(
  launch: { readonly rank: number; readonly host?: string; readonly advertise?: string },
  local: string | null,
): { bind: string; advertise: string; problem: string | null } {
  const bind = unbracketed(launch.host ?? local ?? "127.0.0.1");
  const advertise = unbracketed(launch.advertise ?? (isWildcard(bind) ? local ?? "" : bind));
  const problem = isWildcard(advertise)
    ? `Worker ${launch.rank} listens on ${bind}, which peers cannot dial, and cannot tell which of its addresses reached the coordinator: advertise an address of this machine that the other workers reach (--advertise)`
    : null;
  return { bind, advertise, problem };
}
