/**
 * A transport seen by a subset of its ranks, renumbered `0 … members.length − 1`: the ring
 * between hosts of the hierarchical all-reduce runs on the group leaders alone, with the ring
 * code unchanged. Messages, byte counts and failures are the underlying transport's (a
 * {@linkcode PeerError} names the run's rank); the optional capabilities (recycling buffers,
 * receiving into posted places) pass through with the ranks translated.
 *
 * @module
 */

import { recyclePayload } from "./_buffer_pool.ts";
import { receiveInto } from "./_receive_into.ts";
import type { Phase, TrafficStats, Transport } from "./types.ts";

/**
 * The view of `transport` by `members`, which must include the transport's own rank.
 *
 * @param transport The whole run's transport.
 * @param members The run's ranks that take part, in their new order.
 * @returns A transport whose rank `i` is `members[i]`; closing it leaves `transport` open.
 */
export function subTransport(transport: Transport, members: readonly number[]): Transport {
  const rank = members.indexOf(transport.rank);
  if (rank < 0) {
    throw new RangeError(`Rank ${transport.rank} is not one of the members ${members.join(", ")}`);
  }
  const member = (index: number): number => {
    const peer = members[index];
    if (peer === undefined) {
      throw new RangeError(`Member ${index} does not exist: members are 0..${members.length - 1}`);
    }
    return peer;
  };
  return {
    rank,
    size: members.length,
    send: (to: number, tag: number, payload: Uint8Array, phase: Phase) =>
      transport.send(member(to), tag, payload, phase),
    recv: (from: number, tag: number) => transport.recv(member(from), tag),
    stats: (): TrafficStats => transport.stats(),
    close: () => Promise.resolve(),
    recycle: (payload: Uint8Array) => recyclePayload(transport, payload),
    receiveInto: (from: number, tag: number, targets: readonly Uint8Array[]) =>
      receiveInto(transport, member(from), tag, targets),
  } as Transport;
}
