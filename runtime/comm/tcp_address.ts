/**
 * `host:port` addresses of mesh listeners.
 *
 * @module
 */

/**
 * Splits `host:port` (the host may be an IPv6 address).
 *
 * @param address The address.
 * @returns Host name and port.
 * @throws {RangeError} When the address has no valid port.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseAddress("127.0.0.1:4000"), { hostname: "127.0.0.1", port: 4000 });
 * ```
 */
export function parseAddress(address: string): { hostname: string; port: number } {
  const colon = address.lastIndexOf(":");
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !/^\d+$/.test(address.slice(colon + 1)) || port > 65535) {
    throw new RangeError(`Invalid address "${address}": expected host:port`);
  }
  let hostname = address.slice(0, colon);
  if (hostname.startsWith("[") && hostname.endsWith("]")) hostname = hostname.slice(1, -1);
  return { hostname, port };
}

/**
 * Writes `host:port`, bracketing IPv6 hosts.
 *
 * @param hostname Host name or address.
 * @param port Port.
 * @returns The address.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatAddress("::1", 80), "[::1]:80");
 * ```
 */
export function formatAddress(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}
