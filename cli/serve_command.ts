/**
 * `gossamer serve [runs/] [--port 8080] [--host 127.0.0.1] [--token secret]`: the local
 * dashboard. Lists the runs under a folder, shows each as its report, compares a selection, and
 * keeps pages live while runs train. Bound to this machine unless `--host` says otherwise; bound
 * beyond loopback, every request needs a token (made and printed once in the URL, or given with
 * `--token`). Ctrl-C stops it.
 *
 * @module
 */

import { generateSecret } from "../runtime/auth.ts";
import { isLoopbackHost, serveDashboard } from "../report/mod.ts";
import { CliInputError } from "./errors.ts";

/** Options of `gossamer serve`. */
export interface ServeOptions {
  /** Port to listen on (0: any free one). */
  readonly port: number;
  /** Interface to bind; beyond loopback, requests need a token. */
  readonly host: string;
  /** The secret requests must present; made when bound beyond loopback without one. */
  readonly token?: string;
  /** Host names the dashboard may be opened by, besides addresses and `localhost`. */
  readonly allowHost?: readonly string[];
  /** Print nothing but errors, and a made token (the only way in). */
  readonly quiet?: boolean;
}

/** A token must hold this many characters of hex or base64: at least 128 bits. */
const TOKEN_PATTERN = /^[A-Za-z0-9+/_=-]{32,}$/;

/**
 * The token of a dashboard: the one given (checked), one made for a dashboard bound beyond
 * loopback, or none on loopback.
 *
 * @param options The command's options.
 * @returns The token and whether it was made here (then it is printed), or `null`.
 * @throws {CliInputError} When a given token is too short or has other characters.
 */
export function serveToken(options: ServeOptions): { token: string; made: boolean } | null {
  if (options.token !== undefined) {
    if (!TOKEN_PATTERN.test(options.token)) {
      throw new CliInputError(
        "--token must be at least 32 characters of hex or base64 (128 bits or more); make one " +
          "with: openssl rand -hex 16",
      );
    }
    return { token: options.token, made: false };
  }
  if (isLoopbackHost(options.host)) return null;
  return { token: generateSecret(), made: true };
}

/**
 * Runs `gossamer serve` until Ctrl-C.
 *
 * @param folder The folder of runs (default `runs`).
 * @param options Port and interface.
 * @throws {CliInputError} When the folder is missing or the port is taken.
 */
export async function serveCommand(folder: string, options: ServeOptions): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  Deno.addSignalListener("SIGINT", stop);
  const secret = serveToken(options);
  try {
    const server = await serveDashboard({
      root: folder,
      hostname: options.host,
      port: options.port,
      ...(secret === null ? {} : { token: secret.token }),
      ...(options.allowHost === undefined ? {} : { allowedHosts: options.allowHost }),
      signal: controller.signal,
      onListen: ({ hostname, port }) => {
        const address = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}/`;
        if (secret?.made) {
          // The only way in, so printed even with --quiet; printed once, never stored.
          console.log(
            `Dashboard at ${address}?token=${secret.token} serving ${folder} (Ctrl-C stops)\n` +
              `Bound to ${hostname}, it is reachable from other machines, so every request needs ` +
              "this token (made now, printed once; give your own with --token).",
          );
          return;
        }
        if (options.quiet) return;
        console.log(
          `Dashboard at ${address} serving ${folder} (Ctrl-C stops)` +
            (secret === null ? "" : "\nEvery request needs the token given with --token: open " +
              `${address}?token=<token> once.`),
        );
      },
    }).catch((error) => {
      if (error instanceof Deno.errors.NotFound) {
        throw new CliInputError(`Cannot serve "${folder}": no such folder`);
      }
      if (error instanceof Deno.errors.AddrInUse) {
        throw new CliInputError(
          `Cannot serve on ${options.host}:${options.port}: the port is in use; choose another --port`,
        );
      }
      throw error;
    });
    await server.finished;
  } finally {
    Deno.removeSignalListener("SIGINT", stop);
  }
}
