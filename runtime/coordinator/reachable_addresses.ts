/**
 * A check the coordinator makes once every worker has registered, before anyone dials: a
 * worker that advertises a loopback address can be reached only from its own host, so when a
 * worker on another host is in the run, the mesh cannot form. It happens when a host's name
 * resolves to a loopback address (Debian's /etc/hosts maps it to 127.0.1.1) and the worker
 * advertises the address its connection to the coordinator came from. Saying so at once, with
 * the fix, beats every peer failing to connect to it.
 *
 * A loopback connection to the coordinator only reaches a worker on the coordinator's own host
 * (its own network namespace), so "another host" is a worker whose control connection comes
 * from an address that is not one of the coordinator's own.
 *
 * @module
 */

import { parseAddress } from "../comm/tcp_address.ts";

/**
 * Whether a host is a loopback address (or `localhost`).
 *
 * @param host A host name or address, without brackets.
 * @returns Whether only this host can dial it.
 */
export function isLoopback(host: string): boolean {
  const lower = host.toLowerCase();
  return lower === "localhost" || lower === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(lower);
}

/**
 * Why the mesh cannot form because a worker advertises a loopback address that workers on other
 * hosts would have to dial, or `null` when no such worker is in the run.
 *
 * @param advertised Each worker's mesh address (`host:port`), by rank.
 * @param remotes The address each worker's control connection came from, by rank (`null`:
 *   unknown).
 * @param ownHosts This host's addresses, or `null` when they cannot be listed (no check then).
 * @returns The message naming both workers and the fix, or `null`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { unreachableLoopback } from "./reachable_addresses.ts";
 *
 * const own = new Set(["127.0.0.1", "10.0.0.1"]);
 * assert.equal(unreachableLoopback(["10.0.0.1:4000", "10.0.0.2:4000"], ["10.0.0.1", "10.0.0.2"], own), null);
 * assert.match(
 *   unreachableLoopback(["127.0.1.1:4000", "10.0.0.2:4000"], ["127.0.1.1", "10.0.0.2"], own) ?? "",
 *   /^Worker 0 advertises 127\.0\.1\.1:4000, a loopback address, but worker 1 .* from 10\.0\.0\.2/,
 * );
 * ```
 */
export function unreachableLoopback(
  advertised: readonly string[],
  remotes: readonly (string | null)[],
  ownHosts: ReadonlySet<string> | null,
): string | null {
  if (ownHosts === null) return null;
  const elsewhere = remotes.findIndex((remote) =>
    remote !== null && !isLoopback(plainHost(remote)) && !ownHosts.has(plainHost(remote))
  );
  if (elsewhere < 0) return null;
  const stuck = advertised.findIndex((address) => {
    try {
      return isLoopback(parseAddress(address).hostname);
    } catch {
      return false;
    }
  });
  if (stuck < 0) return null;
  return `Worker ${stuck} advertises ${
    advertised[stuck]
  }, a loopback address, but worker ${elsewhere} reached the coordinator from ${
    remotes[elsewhere]
  }, another host, which cannot dial it: start worker ${stuck} with --advertise set to an address of its host that the others reach (its host name may resolve to a loopback address, as /etc/hosts often makes it)`;
}

/**
 * An address as interfaces list it: an IPv4-mapped IPv6 address (what a dual-stack listener
 * sees of an IPv4 peer) as IPv4, without an IPv6 zone.
 */
function plainHost(host: string): string {
  const bare = host.replace(/%.*$/, "");
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(bare) ? bare.slice(7) : bare;
}

/**
 * This host's addresses (every interface's), or `null` when they cannot be listed (no
 * permission).
 *
 * @returns The addresses.
 */
export function ownAddresses(): Set<string> | null {
  try {
    return new Set(Deno.networkInterfaces().map((face) => face.address.replace(/%.*$/, "")));
  } catch {
    return null;
  }
}
