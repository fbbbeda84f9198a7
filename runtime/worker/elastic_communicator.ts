/**
 * The communicator of an elastic TCP worker: it stands for the communicator of the current
 * membership epoch, which the worker replaces when the run goes on over fewer workers (each epoch
 * has its own communication thread and mesh, see `coordinator/elastic_membership.ts`). The
 * training chain keeps this one object throughout, and its traffic adds up over the epochs, so
 * the metrics lines still add up to every byte the worker sent and received.
 *
 * @module
 */

import { type PhaseBytes, PHASES, zeroBytes } from "../../dsl/traffic.ts";
import type { InPlaceCommunicator } from "../comm/communicator.ts";
import type { PendingAllGather, PendingAllReduce, TrafficStats } from "../comm/types.ts";

/** The element-wise sum of two byte counts. */
function addBytes(a: Readonly<PhaseBytes>, b: Readonly<PhaseBytes>): PhaseBytes {
  const sum = zeroBytes();
  for (const phase of PHASES) sum[phase] = a[phase] + b[phase];
  return sum;
}

/** A communicator whose epoch's communicator can be replaced. */
export interface ElasticCommunicator extends InPlaceCommunicator {
  /** Collectives started so far (a step that started none needs no snapshot). */
  readonly calls: number;
  /**
   * Continues over `next` (the new epoch's communicator, its members set): later collectives
   * run there, and the traffic of the replaced one is kept in the totals.
   */
  replace(next: InPlaceCommunicator): void;
}

/**
 * Wraps the first epoch's communicator.
 *
 * @param first The communicator the worker connected with.
 * @returns The replaceable communicator.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMemoryTransports } from "../comm/memory_transport.ts";
 * import { createCommunicator } from "../comm/communicator.ts";
 * import { elasticCommunicator } from "./elastic_communicator.ts";
 *
 * const comm = elasticCommunicator(createCommunicator(createMemoryTransports(1)[0]!));
 * assert.deepEqual([...await comm.allReduceSum(Float32Array.of(2), "base")], [2]);
 * assert.equal(comm.calls, 1);
 * ```
 */
export function elasticCommunicator(first: InPlaceCommunicator): ElasticCommunicator {
  let current = first;
  let calls = 0;
  let before: TrafficStats = { sent: zeroBytes(), received: zeroBytes() };
  const counted = <T>(work: () => T): T => {
    calls++;
    return work();
  };
  return {
    rank: first.rank,
    size: first.size,
    get members() {
      return current.members;
    },
    get calls() {
      return calls;
    },
    replace(next) {
      const done = current.stats();
      before = {
        sent: addBytes(before.sent, done.sent),
        received: addBytes(before.received, done.received),
      };
      current = next;
    },
    setMembers: (members) => current.setMembers(members),
    allReduceSum: (data, phase) => counted(() => current.allReduceSum(data, phase)),
    allReduceMean: (data, phase) => counted(() => current.allReduceMean(data, phase)),
    allReduceSumInPlace: (data, phase) => counted(() => current.allReduceSumInPlace(data, phase)),
    allReduceMeanInPlace: (data, phase) => counted(() => current.allReduceMeanInPlace(data, phase)),
    allReduceMeanStart: (data, phase): PendingAllReduce =>
      counted(() => current.allReduceMeanStart(data, phase)),
    broadcast: (data, root, phase) => counted(() => current.broadcast(data, root, phase)),
    neighborExchange: (to, from, phase) => counted(() => current.neighborExchange(to, from, phase)),
    neighborExchangeBytes: (to, from, phase) =>
      counted(() => current.neighborExchangeBytes(to, from, phase)),
    allGather: (data, phase) => counted(() => current.allGather(data, phase)),
    allGatherStart: (data, phase): PendingAllGather =>
      counted(() => current.allGatherStart(data, phase)),
    gather: (data, root, phase) => counted(() => current.gather(data, root, phase)),
    barrier: () => counted(() => current.barrier()),
    stats() {
      const now = current.stats();
      return {
        sent: addBytes(before.sent, now.sent),
        received: addBytes(before.received, now.received),
      };
    },
  };
}
