/**
 * What the mesh benchmarks (`tls.ts`, `mac_mesh.ts`) share: their options, a mesh of
 * communication threads as a run forms it (the run's authenticated handshake on every
 * connection), and one timed all-reduce.
 *
 * @module
 */

import {
  type CommThreadOptions,
  startCommThread,
  type ThreadedCommunicator,
} from "../runtime/comm/threaded_communicator.ts";
import type { CommThreadConnectOptions } from "../runtime/comm/_thread_protocol.ts";

/** A mesh benchmark's options. */
export interface MeshSettings {
  mib: number;
  iterations: number;
  ranks: number[];
}

/**
 * Reads `--mib`, `--iterations` and `--ranks 2,4` over the defaults.
 *
 * @param args The command line.
 * @param defaults The values of options not given.
 * @returns The settings.
 */
export function parseMeshSettings(args: readonly string[], defaults: MeshSettings): MeshSettings {
  const settings = { ...defaults };
  for (let i = 0; i < args.length; i += 2) {
    const value = args[i + 1] ?? "";
    if (args[i] === "--mib") settings.mib = Number(value);
    else if (args[i] === "--iterations") settings.iterations = Number(value);
    else if (args[i] === "--ranks") settings.ranks = value.split(",").map(Number);
    else throw new Error(`Unknown option "${args[i]}": expected --mib, --iterations or --ranks`);
  }
  return settings;
}

/**
 * Forms a mesh of `n` communication threads with a fresh secret and run id.
 *
 * @param n Ranks.
 * @param thread Each thread's options (its listener's TLS).
 * @param connect What each rank connects with beyond its identity (TLS, frame MACs).
 * @returns The ranks' communicators.
 */
export async function meshOfThreads(
  n: number,
  thread: CommThreadOptions = {},
  connect: Partial<CommThreadConnectOptions> = {},
): Promise<ThreadedCommunicator[]> {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const runId = crypto.getRandomValues(new Uint8Array(16));
  const threads = await Promise.all(Array.from({ length: n }, () => startCommThread(thread)));
  const addresses = threads.map((each) => each.address);
  return await Promise.all(
    threads.map((each, rank) =>
      each.connect({ ...connect, rank, size: n, addresses, secret, runId })
    ),
  );
}

/**
 * One all-reduce of `data` on every rank, started together after a barrier.
 *
 * @param comms The ranks.
 * @param data Each rank's vector.
 * @returns The slowest rank's all-reduce time as its communication thread measured it, ms.
 */
export async function slowestAllReduceMs(
  comms: readonly ThreadedCommunicator[],
  data: readonly Float32Array[],
): Promise<number> {
  await Promise.all(comms.map((comm) => comm.barrier()));
  const pending = comms.map((comm, rank) => comm.allReduceMeanStart(data[rank]!, "base"));
  await Promise.all(pending.map((each) => each.wait()));
  return Math.max(...pending.map((each) => each.elapsedMs()!));
}
