/**
 * `gossamer serve [runs/] [--port 8080] [--host 127.0.0.1]`: the local dashboard. Lists the runs
 * under a folder, shows each as its report, compares a selection, and keeps pages live while runs
 * train. Bound to this machine unless `--host` says otherwise; Ctrl-C stops it.
 *
 * @module
 */

import { serveDashboard } from "../report/mod.ts";
import { CliInputError } from "./errors.ts";

/** Options of `gossamer serve`. */
export interface ServeOptions {
  readonly port: number;
  readonly host: string;
  readonly quiet?: boolean;
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
  try {
    const server = await serveDashboard({
      root: folder,
      hostname: options.host,
      port: options.port,
      signal: controller.signal,
      onListen: ({ hostname, port }) => {
        if (options.quiet) return;
        console.log(`Dashboard at http://${hostname}:${port}/ serving ${folder} (Ctrl-C stops)`);
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
