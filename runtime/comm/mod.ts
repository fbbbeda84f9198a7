/**
 * The communication layer: the transport contract, the memory and TCP transports, the wire
 * format and the collectives built on any transport.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMemoryCommunicators } from "./mod.ts";
 * const comms = createMemoryCommunicators(4);
 * const means = await Promise.all(
 *   comms.map((comm) => comm.allReduceMean(new Float32Array([comm.rank]), "base")),
 * );
 * assert.deepEqual([...means[3]!], [1.5]);
 * ```
 *
 * @module
 */

export * from "./types.ts";
export * from "./wire.ts";
export { DEFAULT_PEER_TIMEOUT_MS } from "./_mailbox.ts";
export * from "./communicator.ts";
export * from "./memory_transport.ts";
export * from "./tcp_transport.ts";
export {
  createSharedArena,
  DEFAULT_SLOT_FLOATS,
  type SharedArena,
  SharedReducer,
  type SharedReducerOptions,
} from "./shared_reduce.ts";
